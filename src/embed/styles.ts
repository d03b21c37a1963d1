import css from '../ui/widget.css?inline';

let sheet: CSSStyleSheet | null = null;

/**
 * Gives a shadow root the widget's stylesheet (one constructed sheet shared by every widget on
 * the page). Styles never enter the host document, so they cannot leak out.
 */
export function adoptWidgetStyles(root: ShadowRoot): void {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
  }
  if (!root.adoptedStyleSheets.includes(sheet)) {
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  }
}

/** Dispatches the widget's DOM events from its host element; they cross the shadow boundary. */
export function emit(host: Element, type: 'fenliu-status' | 'fenliu-escalate', detail: unknown) {
  host.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
}
