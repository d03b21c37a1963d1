import { useCallback, useLayoutEffect, useRef, useState, type CSSProperties } from 'react';
import { createPortal } from 'react-dom';
import type { RouterEvent, RouterEventMap } from '../router/types';
import { EmbeddedChat, type EmbedOptions } from './EmbeddedChat';
import { adoptWidgetStyles, emitRouterEvent } from './styles';

/** `onMessage`, `onClassified`, `onRoute`, `onToolProposed`, … : one callback per session event. */
type EventCallbacks = {
  [Type in keyof RouterEventMap as `on${EventName<Type>}`]?: (detail: RouterEventMap[Type]) => void;
};
type EventName<Type extends string> = Type extends `${infer Head}-${infer Tail}`
  ? `${Capitalize<Head>}${EventName<Capitalize<Tail>>}`
  : Capitalize<Type>;

/** The callback prop of an event type: `tool-proposed` → `onToolProposed`. */
function callbackName(type: keyof RouterEventMap): keyof EventCallbacks {
  return `on${type
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('')}` as keyof EventCallbacks;
}

export interface FenliuChatProps extends Omit<EmbedOptions, 'onStatus'>, EventCallbacks {
  className?: string;
  style?: CSSProperties;
}

/**
 * The chat widget as a React component (React is the host's: a peer dependency). It renders into
 * its own shadow root, so the host's CSS and the widget's never meet. Every router session event
 * comes as a callback (`onStatus`, `onMessage`, `onClassified`, `onRoute`, `onToolProposed`, …,
 * `onReply`, `onEscalated`, `onError`; `onEvent` hears them all) and as a `fenliu-<type>` DOM
 * event, like `<fenliu-chat>`.
 *
 * @example
 * <FenliuChat modelUrl="/models/fenliu-demo/" catalogUrl="/catalog.json" language="en"
 *   onEscalate={({ text }) => handOver(text)} />
 */
export function FenliuChat(props: FenliuChatProps) {
  const { className, style, onEscalate, ...rest } = props;
  const options = withoutCallbacks(rest);
  const host = useRef<HTMLDivElement>(null);
  const [shadow, setShadow] = useState<ShadowRoot | null>(null);

  useLayoutEffect(() => {
    const element = host.current;
    if (!element) return;
    const root = element.shadowRoot ?? element.attachShadow({ mode: 'open' });
    adoptWidgetStyles(root);
    setShadow(root);
  }, []);

  // NOTE: the latest props are read when an event arrives; hosts pass new callbacks each render.
  const latest = useRef(props);
  useLayoutEffect(() => {
    latest.current = props;
  });
  const onSessionEvent = useCallback((event: RouterEvent) => {
    if (host.current) emitRouterEvent(host.current, event);
    const callback = latest.current[callbackName(event.type)] as
      ((detail: RouterEvent['detail']) => void) | undefined;
    callback?.(event.detail);
    latest.current.onEvent?.(event);
  }, []);

  return (
    <div ref={host} className={className} style={style} data-fenliu-host="">
      {shadow &&
        createPortal(
          <EmbeddedChat
            {...options}
            onEvent={onSessionEvent}
            {...(onEscalate && { onEscalate })}
          />,
          shadow,
        )}
    </div>
  );
}

/** The options without the per-event callbacks (those are called from `onSessionEvent`). */
function withoutCallbacks(props: Omit<FenliuChatProps, 'className' | 'style'>): EmbedOptions {
  return Object.fromEntries(
    Object.entries(props).filter(([key]) => !/^on[A-Z]/.test(key) || key === 'onEscalate'),
  );
}
