import type { LocalizedText } from './catalog';

/**
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
  /** A regular expression over the whole value (see src/decoding/pattern.ts for the syntax). */
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

/** Qwen3's tool-call markers; both are single special tokens in its tokenizer. */
export const TOOL_CALL_OPEN = '<tool_call>';
export const TOOL_CALL_CLOSE = '</tool_call>';

/**
 * JSON as Qwen3's chat template writes it (`tojson`: Python's `json.dumps` with `ensure_ascii`
 * off): `", "` between items and `": "` after keys, non-ASCII text left as it is. Training
 * answers and decoding constraints both use this form, so the model sees one spelling only.
 */
export function toTemplateJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(toTemplateJson).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    const items = Object.entries(value).map(
      ([key, item]) => `${JSON.stringify(key)}: ${toTemplateJson(item)}`,
    );
    return `{${items.join(', ')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The text of one tool call exactly as Qwen3's chat template renders an assistant's
 * `tool_calls` entry: `<tool_call>\n{"name": …, "arguments": {…}}\n</tool_call>`.
 */
export function renderToolCall(call: ToolCall): string {
  return `${TOOL_CALL_OPEN}\n{"name": ${JSON.stringify(call.name)}, "arguments": ${toTemplateJson(call.arguments)}}\n${TOOL_CALL_CLOSE}`;
}

/**
 * The answer of an intent bound to a tool: its label, a newline, then the call — the content
 * and `tool_calls` of one assistant message, as the template joins them.
 */
export function renderToolAnswer(label: string, call: ToolCall): string {
  return `${label}\n${renderToolCall(call)}`;
}

/** A tool in the form Qwen3's chat template takes in `tools` (and OpenAI-style APIs). */
export function templateToolDefinition(
  spec: ToolSpec,
  language: keyof LocalizedText = 'en',
): { type: 'function'; function: { name: string; description: string; parameters: ObjectSchema } } {
  return {
    type: 'function',
    function: {
      name: spec.name,
      description: spec.description[language],
      parameters: spec.parameters,
    },
  };
}
