import type { RouterEvent } from '../router/types';
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

/**
 * Dispatches a session event from the widget's host element as `fenliu-<type>` (bubbling and
 * composed: it crosses the shadow boundary). `escalated` is also dispatched as `fenliu-escalate`,
 * its name before every session event reached the host.
 */
export function emitRouterEvent(host: Element, event: RouterEvent): void {
  const { type, detail } = event;
  host.dispatchEvent(new CustomEvent(`fenliu-${type}`, { detail, bubbles: true, composed: true }));
  if (type === 'escalated') {
    const { text, classification } = detail;
    host.dispatchEvent(
      new CustomEvent('fenliu-escalate', {
        detail: { text, classification },
        bubbles: true,
        composed: true,
      }),
    );
  }
}
