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
  /**
   * Questions the widget offers as quick replies on an empty conversation (at most 6), in the
   * customer's words, e.g. `{zh: '我的快递到哪了', en: 'Where is my parcel?'}`.
   */
  starters?: LocalizedText[];
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
  /**
   * How the widget shows this tool to a customer (see `ToolPresentation`). Kept apart from
   * `parameters` on purpose: the schema is what the model was trained and prompted with, and this
   * block is customer-facing text only — it never reaches a prompt, the training data's tool
   * declarations or the catalog/model match check.
   */
  presentation?: ToolPresentation;
}

/**
 * How a result field's value is written for a customer:
 * - `yuan`: an amount in yuan, `¥299.00` (a non-number is shown as text);
 * - `date`: a `YYYY-MM-DD` date, `2024年11月26日` / `Nov 26, 2024` (anything else, such as
 *   `立即`, is looked up in `values` like any text);
 * - `list`: a one-line list such as an order's items, `无线耳机 ×1，手机壳 ×2`: split at `，`, `、`
 *   or `,`, each entry's name (before an optional ` ×N` quantity) looked up in `values`, and joined
 *   again with the language's separator (`Wireless earbuds ×1, Phone case ×2`).
 *
 * Without a format, a string is looked up in `values`, a number is written as it is and a boolean
 * as 是/否, Yes/No. Values that are not scalars are written as text too: an array as its items
 * joined with the language's separator, an object as its scalar values joined with ` · ` (keys
 * are the operator's words, not the customer's, so they are left out).
 */
export type ResultFormat = 'yuan' | 'date' | 'list';

/** One result field a customer cares about, in the order the card shows them. */
export interface ResultField {
  /** The key in the tool's result object. */
  key: string;
  label: LocalizedText;
  format?: ResultFormat;
}

/**
 * A tool in the customer's words (`ToolSpec.presentation`): what the widget's cards, quick
 * replies and confirmation show instead of raw keys and the tool's own (often Chinese) values.
 * src/ui/tool-presentation.ts reads it and falls back to keys and raw values where it says
 * nothing.
 *
 * @example
 * {
 *   "title": { "zh": "退款申请", "en": "Refund request" },
 *   "fields": { "order_id": { "zh": "订单号", "en": "Order number" }, "reason": { … } },
 *   "values": { "尺码不合适": { "zh": "尺码不合适", "en": "Wrong size" } },
 *   "confirm": [{ "zh": "为订单 {order_id} 申请退款，原因：{reason}。", "en": "…" }],
 *   "result": [{ "key": "amount", "label": { "zh": "退款金额", "en": "Refund amount" }, "format": "yuan" }]
 * }
 */
export interface ToolPresentation {
  /** The card's title: `退款申请` / `Refund request`. */
  title: LocalizedText;
  /** A customer's name for every parameter (the keys are exactly `parameters.properties`'). */
  fields: Record<string, LocalizedText>;
  /**
   * The customer's words for values the tool takes or returns, keyed by the value as the tool
   * writes it: the string `enum` values of the parameters (an enum value without an entry is
   * shown as it is), and the result values a customer reads (statuses, couriers, product names). A key may hold `{name}` placeholders
   * for an id inside a value: `"订单 {id}": {"zh": "订单 {id}", "en": "Order {id}"}` matches
   * `订单 2024113012345` and copies the id into the text.
   */
  values?: Record<string, LocalizedText>;
  /**
   * What a confirmation says will change, with `{parameter}` placeholders filled with the call's
   * (localized) arguments: `为订单 {order_id} 申请退款，原因：{reason}。` One sentence, or
   * alternatives in order of preference; the first whose placeholders all have arguments is
   * used (an optional argument left out, one of `anyOf`'s alternatives).
   */
  confirm?: LocalizedText | LocalizedText[];
  /** The result fields a customer cares about, in order (other fields are not shown). */
  result?: ResultField[];
}

/** Arguments as decoded or typed: a flat JSON object. */
export type ToolArguments = Record<string, string | number | boolean>;

/** One call as the model writes it inside `<tool_call>…</tool_call>`. */
export interface ToolCall {
  name: string;
  arguments: ToolArguments;
}
