import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { renderToolAnswer, TOOL_CALL_OPEN, toTemplateJson } from '../catalog/chat-template';
import type { ToolCall } from '../catalog/types';

/**
 * The one place where a message becomes model input. Training data (scripts/prepare-training-data)
 * and the runtime classifier both call these functions, so the prompt the model was trained on is
 * by construction the prompt it is served with.
 */

/** Qwen3's end-of-turn token `<|im_end|>`: the model's answer ends with it. */
export const IM_END_TOKEN_ID = 151645;

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  /** An assistant turn's calls, in the shape Qwen3's chat template reads. */
  tool_calls?: { type: 'function'; function: ToolCall }[];
}

export function chatMessages(text: string, system: string | null): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (system !== null) messages.push({ role: 'system', content: system });
  messages.push({ role: 'user', content: text });
  return messages;
}

/**
 * Token ids of the generation prompt for `text`, with Qwen3's thinking turned off (the template
 * then ends in an empty `<think>\n\n</think>\n\n` block, so the first generated token is the
 * answer itself).
 */
export function encodePrompt(
  tokenizer: PreTrainedTokenizer,
  text: string,
  system: string | null,
): number[] {
  return tokenizer.apply_chat_template(chatMessages(text, system), GENERATION_PROMPT);
}

// NOTE: `enable_thinking` is passed through to Qwen3's Jinja template; transformers.js's option
// type does not list template variables, so the options live in a constant, not a literal.
const GENERATION_PROMPT = {
  add_generation_prompt: true,
  enable_thinking: false,
  tokenize: true,
  return_tensor: false,
  return_dict: false,
} as const;

/**
 * Token ids of an answer as the model must produce it: the label, then `<|im_end|>`; for an
 * intent bound to a tool, the label, a newline and the `<tool_call>` block, then `<|im_end|>`.
 */
export function encodeAnswer(
  tokenizer: PreTrainedTokenizer,
  label: string,
  call?: ToolCall,
): number[] {
  const text = call ? renderToolAnswer(label, call) : label;
  return [...tokenizer.encode(text, { add_special_tokens: false }), IM_END_TOKEN_ID];
}

/**
 * The part of every answer of an intent that is decided by classification alone: for a plain
 * intent its whole answer, for an intent bound to a tool the label up to `<tool_call>` (a
 * prefix of each `encodeAnswer(label, call)`: the tokenizer splits special tokens and newlines
 * off before BPE). The label trie is built from these; the arguments are decoded afterwards.
 */
export function encodeLabelAnswer(
  tokenizer: PreTrainedTokenizer,
  label: string,
  hasTool: boolean,
): number[] {
  if (!hasTool) return encodeAnswer(tokenizer, label);
  return tokenizer.encode(`${label}\n${TOOL_CALL_OPEN}`, { add_special_tokens: false });
}

/**
 * Token ids of the prompt for the turn after a tool ran: the user's message, the assistant's
 * label and call, and the tool's result (Qwen3 wraps it in `<tool_response>`), then the
 * generation prompt. The model's reply to this is the final answer to the user.
 */
export function encodeToolResultPrompt(
  tokenizer: PreTrainedTokenizer,
  turn: { text: string; label: string; call: ToolCall; result: unknown },
  system: string | null,
): number[] {
  const messages: ChatMessage[] = [
    ...chatMessages(turn.text, system),
    {
      role: 'assistant',
      content: turn.label,
      tool_calls: [{ type: 'function', function: turn.call }],
    },
    { role: 'tool', content: toTemplateJson(turn.result) },
  ];
  return tokenizer.apply_chat_template(messages, GENERATION_PROMPT);
}

export interface TrainingExample {
  /** Prompt ids followed by the answer ids. */
  input_ids: number[];
  /** Index of the first answer token: the loss covers `input_ids[answer_start:]` only. */
  answer_start: number;
  label: string;
}

export function encodeTrainingExample(
  tokenizer: PreTrainedTokenizer,
  text: string,
  label: string,
  system: string | null,
  call?: ToolCall,
): TrainingExample {
  const prompt = encodePrompt(tokenizer, text, system);
  return {
    input_ids: [...prompt, ...encodeAnswer(tokenizer, label, call)],
    answer_start: prompt.length,
    label,
  };
}

/** A training example of the second step: the final reply written from a tool's result. */
export function encodeToolReplyExample(
  tokenizer: PreTrainedTokenizer,
  turn: { text: string; label: string; call: ToolCall; result: unknown },
  reply: string,
  system: string | null,
): TrainingExample {
  const prompt = encodeToolResultPrompt(tokenizer, turn, system);
  return {
    input_ids: [
      ...prompt,
      ...tokenizer.encode(reply, { add_special_tokens: false }),
      IM_END_TOKEN_ID,
    ],
    answer_start: prompt.length,
    label: turn.label,
  };
}
