import { createRoot, type Root } from 'react-dom/client';
import type { Catalog } from '../catalog/types';
import type { DevicePreference } from '../engine/device';
import type { EscalationConfig } from '../escalation/types';
import type { ToolImplementation } from '../tools/registry';
import type { RouteHandler } from '../router/types';
import type { ChatWidgetProps, EscalationEvent, LauncherCorner } from '../ui/ChatWidget';
import { parseLanguage, parseTheme } from '../ui/i18n';
import { EmbeddedChat } from './EmbeddedChat';
import { adoptWidgetStyles, emitRouterEvent } from './styles';

const ATTRIBUTES = [
  'model',
  'catalog',
  'lang',
  'theme',
  'device',
  'ort',
  'persist',
  'browser-cache',
  'layout',
  'corner',
  'open',
  'inspect',
] as const;

const CORNERS: readonly LauncherCorner[] = ['bottom-right', 'bottom-left', 'top-right', 'top-left'];

function parseCorner(value: string | null): LauncherCorner {
  return CORNERS.find((corner) => corner === value) ?? 'bottom-right';
}

/** A boolean attribute: present (and not `false`) is on. */
function flag(element: Element, name: string): boolean {
  const value = element.getAttribute(name);
  return value !== null && value !== 'false';
}

function parseDevice(value: string | null): DevicePreference {
  return value === 'wasm' || value === 'webgpu' ? value : 'auto';
}

/**
 * `<fenliu-chat>`: the chat widget in a shadow root.
 *
 * Attributes: `model` (model folder URL), `catalog` (catalog JSON URL), `lang` (`zh`|`en`),
 * `theme` (`light`|`dark`|`auto`), and optionally `device` (`auto`|`wasm`|`webgpu`), `ort`
 * (onnxruntime-web folder URL) and `persist` (IndexedDB key for the conversation); `layout`
 * (`inline`, the default, or `launcher`: a floating chat bubble that opens the widget), `corner`
 * (the launcher's: `bottom-right`|`bottom-left`|`top-right`|`top-left`), `open` (the launcher
 * starts open) and `inspect` (the operator's view of each routing decision).
 * Properties: `catalog` (a catalog object; wins over the attribute), `tools` (implementations by
 * tool name), `handlers` (the agents, people and host functions the catalog's routes name),
 * `toolReply` (template replies), `escalation` (chat-completions endpoint or hand-off callback;
 * the API key lives only in this property, never in an attribute or storage), `onescalate`.
 * Events: every router session event as `fenliu-<type>`, bubbling and composed, its `detail` as
 * `RouterEventMap` documents it (`fenliu-status`, `fenliu-message`, `fenliu-classified`,
 * `fenliu-route`, `fenliu-tool-proposed|confirmed|declined|executed|failed`,
 * `fenliu-reply-delta`, `fenliu-reply`, `fenliu-escalated`, `fenliu-error`); `fenliu-escalate`
 * (detail: text and classification) as before.
 * Properties are checked when set, like a fetched catalog: an invalid `catalog`, a tool or handler
 * that is not a function, or a failure inside the widget is a `fenliu-error` (`scope:
 * 'developer'`, the problem list in `detail.error`) and a console error; the widget goes on
 * without it and the customer reads a short line (after a failure inside the widget: a reload
 * button).
 *
 * @example
 * <script type="module" src="/embed/fenliu-chat.js"></script>
 * <fenliu-chat model="/models/fenliu-demo/" catalog="/catalog.json" lang="en"></fenliu-chat>
 */
export class FenliuChatElement extends HTMLElement {
  static readonly observedAttributes = ATTRIBUTES;
  private reactRoot: Root | null = null;
  private catalogObject: Catalog | null = null;
  private toolMap: Readonly<Record<string, ToolImplementation>> = {};
  private escalationConfig: EscalationConfig | null = null;
  private handlerMap: Readonly<Record<string, RouteHandler>> = {};
  private replyTemplate: ChatWidgetProps['toolReply'] | null = null;
  /** Called, like the `fenliu-escalate` event, when a message is routed to escalation. */
  onescalate: ((event: EscalationEvent) => void) | null = null;

  get catalog(): Catalog | null {
    return this.catalogObject;
  }
  set catalog(value: Catalog | null) {
    this.catalogObject = value;
    this.render();
  }
  get tools(): Readonly<Record<string, ToolImplementation>> {
    return this.toolMap;
  }
  set tools(value: Readonly<Record<string, ToolImplementation>>) {
    this.toolMap = value;
    this.render();
  }
  get handlers(): Readonly<Record<string, RouteHandler>> {
    return this.handlerMap;
  }
  set handlers(value: Readonly<Record<string, RouteHandler>>) {
    this.handlerMap = value;
    this.render();
  }
  get escalation(): EscalationConfig | null {
    return this.escalationConfig;
  }
  set escalation(value: EscalationConfig | null) {
    this.escalationConfig = value;
    this.render();
  }
  get toolReply(): ChatWidgetProps['toolReply'] | null {
    return this.replyTemplate;
  }
  set toolReply(value: ChatWidgetProps['toolReply'] | null) {
    this.replyTemplate = value;
    this.render();
  }

  connectedCallback(): void {
    const shadow = this.shadowRoot ?? this.attachShadow({ mode: 'open' });
    adoptWidgetStyles(shadow);
    this.reactRoot ??= createRoot(shadow);
    this.render();
  }

  disconnectedCallback(): void {
    // NOTE: moving the element in the DOM disconnects and reconnects it in one task; only a
    // removal that lasts stops the worker.
    queueMicrotask(() => {
      if (!this.isConnected && this.reactRoot) {
        this.reactRoot.unmount();
        this.reactRoot = null;
      }
    });
  }

  attributeChangedCallback(): void {
    this.render();
  }

  private render(): void {
    if (!this.reactRoot) return;
    const lang = this.getAttribute('lang');
    const theme = this.getAttribute('theme');
    const persist = this.getAttribute('persist');
    this.reactRoot.render(
      <EmbeddedChat
        modelUrl={this.getAttribute('model')}
        ortUrl={this.getAttribute('ort')}
        catalogUrl={this.getAttribute('catalog')}
        catalog={this.catalogObject}
        tools={this.toolMap}
        handlers={this.handlerMap}
        escalation={this.escalationConfig}
        {...(this.replyTemplate && { toolReply: this.replyTemplate })}
        device={parseDevice(this.getAttribute('device'))}
        {...(lang !== null && { language: parseLanguage(lang) })}
        {...(theme !== null && { theme: parseTheme(theme) })}
        {...(persist !== null && { persistKey: persist })}
        // `browser-cache="off"`: no Cache Storage copy of the model or of onnxruntime's files
        // (whose copy is imported from blob: URLs a strict CSP refuses).
        {...(this.getAttribute('browser-cache') === 'off' && { browserCache: false })}
        layout={this.getAttribute('layout') === 'launcher' ? 'launcher' : 'inline'}
        corner={parseCorner(this.getAttribute('corner'))}
        defaultOpen={flag(this, 'open')}
        inspect={flag(this, 'inspect')}
        onEvent={(event) => {
          emitRouterEvent(this, event);
        }}
        onEscalate={(event) => {
          this.onescalate?.(event);
        }}
      />,
    );
  }
}

/** Registers `<fenliu-chat>` (once; a second call is a no-op). */
export function defineFenliuChat(tagName = 'fenliu-chat'): void {
  if (!customElements.get(tagName)) customElements.define(tagName, FenliuChatElement);
}
