import { useCallback, useLayoutEffect, useRef, useState, type CSSProperties } from 'react';
import { createPortal } from 'react-dom';
import type { ClassifierStatus } from '../engine/lifecycle';
import type { EscalationEvent } from '../ui/ChatWidget';
import { EmbeddedChat, type EmbedOptions } from './EmbeddedChat';
import { adoptWidgetStyles, emit } from './styles';

export interface FenliuChatProps extends EmbedOptions {
  className?: string;
  style?: CSSProperties;
}

/**
 * The chat widget as a React component (React is the host's: a peer dependency). It renders into
 * its own shadow root, so the host's CSS and the widget's never meet. Besides the callbacks, it
 * fires `fenliu-status` and `fenliu-escalate` DOM events, like `<fenliu-chat>`.
 *
 * @example
 * <FenliuChat modelUrl="/models/fenliu-demo/" catalogUrl="/catalog.json" language="en"
 *   onEscalate={({ text }) => handOver(text)} />
 */
export function FenliuChat({
  className,
  style,
  onStatus,
  onEscalate,
  ...options
}: FenliuChatProps) {
  const host = useRef<HTMLDivElement>(null);
  const [shadow, setShadow] = useState<ShadowRoot | null>(null);

  useLayoutEffect(() => {
    const element = host.current;
    if (!element) return;
    const root = element.shadowRoot ?? element.attachShadow({ mode: 'open' });
    adoptWidgetStyles(root);
    setShadow(root);
  }, []);

  const onStatusEvent = useCallback(
    (status: ClassifierStatus) => {
      if (host.current) emit(host.current, 'fenliu-status', status);
      onStatus?.(status);
    },
    [onStatus],
  );
  const onEscalateEvent = useCallback(
    (event: EscalationEvent) => {
      if (host.current) emit(host.current, 'fenliu-escalate', event);
      onEscalate?.(event);
    },
    [onEscalate],
  );

  return (
    <div ref={host} className={className} style={style} data-fenliu-host="">
      {shadow &&
        createPortal(
          <EmbeddedChat {...options} onStatus={onStatusEvent} onEscalate={onEscalateEvent} />,
          shadow,
        )}
    </div>
  );
}
