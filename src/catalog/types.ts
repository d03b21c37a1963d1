/**
 * What a catalog holds, as data: its intents, the tools they call, the tools' parameter schemas
 * and where each intent's messages go. Declarations only, so every module that reads a catalog
 * can import them without importing how a catalog is checked (src/catalog/catalog.ts) or how a
 * call is written (src/catalog/chat-template.ts).
 */

/** Text in the UI languages fenliu ships. */
export interface LocalizedText {
  zh: string;
  en: string;
}

export interface Intent {
  /** Stable identifier used by code and tool bindings, e.g. `order_status`. */
  id: string;
  /** The exact text the model answers with, e.g. `查询订单`. */
  label: string;
  name: LocalizedText;
  description: LocalizedText;
  /** Name of the catalog tool this intent calls; the model then writes the call's arguments. */
  tool?: string;
  /** Every turn with this intent goes to the escalation handler (e.g. "talk to a person"). */
  escalate?: boolean;
}

/**
 * Intents are data, not code: a catalog names every intent, the label the model answers with,
 * and which intent receives messages that fit none of the others.
 */
export interface Catalog {
  version: 1;
  id: string;
  name: LocalizedText;
  /** Intent id used when nothing else fits (and for answers outside the catalog). */
  fallbackIntent: string;
  intents: Intent[];
  /** Tools intents may call, declared as data (see `ToolSpec`). */
  tools?: ToolSpec[];
  /**
   * Where each intent's messages go, keyed by intent id (see `IntentRoute`). An intent without
   * an entry calls its `tool` when it names one and otherwise goes to the host as an event only
   * (`{kind: 'host'}`); `routeOf` in src/catalog/routes.ts gives that effective route. The
   * fallback intent (out of scope), low-confidence answers and `escalate: true` intents keep
   * their escalation rules, so the fallback and escalating intents must not have an entry.
   */
  routes?: Record<string, IntentRoute>;
}

/**
 * Where an intent's messages go (a catalog's `routes`, by intent id). Routes are data like the
 * rest of the catalog: the catalog names a handler, and the host page supplies the function or
 * endpoint under that name, so one catalog serves every host.
 */
export type IntentRoute =
  /** A localized template answer, with at most 6 quick-reply suggestions. */
  | { kind: 'reply'; text: LocalizedText; suggestions?: LocalizedText[] }
  /** The intent's `tool` binding: the model writes the call's arguments (today's behaviour). */
  | { kind: 'tool' }
  /**
   * An agent the host supplies under `handler` (a chat-completions endpoint or a local
   * function), given this intent's own system prompt and knowledge text.
   */
  | { kind: 'agent'; handler: string; system?: string; knowledge?: string }
  /** A hand-off to people through the host's `handler`, into the named queue. */
  | { kind: 'human'; handler: string; queue: string }
  /** The host's own function named `handler`, or, without a handler, only the event. */
  | { kind: 'host'; handler?: string };

export type RouteKind = IntentRoute['kind'];

/*
 * Tools are data first: a catalog declares each tool's name, description and parameter schema
 * (the JSON Schema form Qwen3's chat template takes in `tools`), and binds intents to tools by
 * name. Code supplies only the `execute` function (see src/tools/registry.ts), so the worker,
 * the training pipeline and the CLI all read the same declarations.
 *
 * The supported schema is deliberately small — a flat object of strings, numbers, integers and
 * booleans — because every argument is decoded under constraints token by token, and a flat
 * object is what a customer-service tool takes.
 */

export interface StringSchema {
  type: 'string';
  description?: string;
  enum?: string[];
  /** A regular expression over the whole value (see src/catalog/pattern.ts for the syntax). */
  pattern?: string;
  minLength?: number;
  /** Also bounds decoding: a free-text value stops at this many characters. */
  maxLength?: number;
}

export interface NumberSchema {
  type: 'number' | 'integer';
  description?: string;
  minimum?: number;
  maximum?: number;
  enum?: number[];
}

export interface BooleanSchema {
  type: 'boolean';
  description?: string;
}

export type ValueSchema = StringSchema | NumberSchema | BooleanSchema;

export interface ObjectSchema {
  type: 'object';
  properties: Record<string, ValueSchema>;
  /** Keys that must be present before the tool may run. */
  required?: string[];
  /**
   * Alternatives of required keys (`[{required: ['order_id']}, {required: ['plan']}]`): at least
   * one alternative must be complete. Only this form of `anyOf` is supported.
   */
  anyOf?: { required: string[] }[];
  additionalProperties?: false;
}

/** A tool as a catalog declares it. */
export interface ToolSpec {
  /** Stable identifier the model writes in `<tool_call>`, e.g. `lookup_order`. */
  name: string;
  description: LocalizedText;
  parameters: ObjectSchema;
  /**
   * Whether a call changes data (creates, updates or deletes a record: an address change, a
   * refund request, an invoice). Declared for every tool, with no default, so a catalog author
   * decides it; a tool that changes data must have `requiresConfirmation: true` (the catalog
   * check, the registry and the executor all hold to it).
   */
  changesData: boolean;
  /** The user confirms each call before it runs; always `true` when `changesData` is. */
  requiresConfirmation: boolean;
  /** A call still running after this long is abandoned with a timeout error. */
  timeoutMs: number;
  /** What the widget asks the user for each parameter the message did not give. */
  ask?: Record<string, LocalizedText>;
  /**
   * String parameters whose value must be copied from the user's message (an order number, an
   * address): decoding only lets the model pick a span of what the user typed, so it can never
   * send a tool a value nobody gave. Not for enums (those are chosen, not copied).
   */
  extract?: string[];
}

/** Arguments as decoded or typed: a flat JSON object. */
export type ToolArguments = Record<string, string | number | boolean>;

/** One call as the model writes it inside `<tool_call>…</tool_call>`. */
export interface ToolCall {
  name: string;
  arguments: ToolArguments;
}
