import css from './inspector.css?inline';

let sheet: CSSStyleSheet | null = null;

/**
 * A callback ref that gives the element's shadow root (or document) the inspector's stylesheet.
 * The inspector is loaded only when an operator turns it on, so its styles travel with it rather
 * than in every customer's widget (see src/embed/styles.ts for the widget's own).
 */
export function adoptInspectorStyles(element: HTMLElement | null): void {
  const root = element?.getRootNode();
  if (!(root instanceof ShadowRoot) && !(root instanceof Document)) return;
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
  }
  if (!root.adoptedStyleSheets.includes(sheet)) {
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  }
}
