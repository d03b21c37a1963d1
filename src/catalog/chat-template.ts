import type { LocalizedText, ObjectSchema, ToolCall, ToolSpec } from './types';

/**
 * Tools and tool calls as Qwen3's chat template writes them: the text the model is trained on,
 * prompted with and decoded against, spelled one way everywhere.
 */

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
