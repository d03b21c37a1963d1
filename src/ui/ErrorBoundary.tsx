import { Component, type ErrorInfo, type ReactNode } from 'react';
import { useColorScheme } from './color-scheme';
import type { Language, Theme } from './i18n';

/**
 * The customer's words when the widget itself failed, in both languages (the failed widget can
 * no longer say which one the customer chose). Kept here, beside the one place that shows them.
 */
const CRASH_TEXT: Record<Language, { message: string; reload: string }> = {
  zh: { message: '客服助手出了点问题。', reload: '重新加载助手' },
  en: { message: 'The assistant ran into a problem.', reload: 'Reload the assistant' },
};

export interface WidgetErrorBoundaryProps {
  children: ReactNode;
  /** Which language comes first in the bilingual message (default Chinese). */
  language?: Language;
  theme?: Theme;
  /** Called once per failure, after the details were logged (the embeds tell the host). */
  onError?: (error: unknown) => void;
}

interface WidgetErrorBoundaryState {
  failed: boolean;
}

/**
 * Keeps a failure inside the widget: an error thrown while rendering (or in an effect) replaces
 * the widget, and only the widget, with a short bilingual message and a "reload the assistant"
 * button that mounts it again. The details go to the console and to `onError`; the host page
 * goes on working. What the customer had typed survives where the widget keeps it (the draft and
 * the conversation under `persistKey` are read back on the new mount).
 *
 * @example
 * <WidgetErrorBoundary onError={(error) => report(error)}><ChatWidget … /></WidgetErrorBoundary>
 */
export class WidgetErrorBoundary extends Component<
  WidgetErrorBoundaryProps,
  WidgetErrorBoundaryState
> {
  override state: WidgetErrorBoundaryState = { failed: false };

  static getDerivedStateFromError(): WidgetErrorBoundaryState {
    return { failed: true };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    console.error(
      'fenliu: the widget stopped on an error; it shows a reload button',
      error,
      info.componentStack,
    );
    this.props.onError?.(error);
  }

  override render(): ReactNode {
    if (!this.state.failed) return this.props.children;
    return (
      <CrashNotice
        language={this.props.language ?? 'zh'}
        theme={this.props.theme ?? 'auto'}
        onReload={() => {
          this.setState({ failed: false });
        }}
      />
    );
  }
}

function CrashNotice(props: { language: Language; theme: Theme; onReload: () => void }) {
  const scheme = useColorScheme(props.theme);
  const order: Language[] = props.language === 'en' ? ['en', 'zh'] : ['zh', 'en'];
  return (
    <section
      className="fenliu widget-failed"
      data-theme={props.theme}
      data-scheme={scheme}
      role="alert"
    >
      {order.map((language) => (
        <p key={language} className="notice-line" lang={language === 'zh' ? 'zh-CN' : 'en'}>
          {CRASH_TEXT[language].message}
        </p>
      ))}
      <p>
        <button type="button" className="reload" onClick={props.onReload}>
          {order.map((language) => CRASH_TEXT[language].reload).join(' · ')}
        </button>
      </p>
    </section>
  );
}
