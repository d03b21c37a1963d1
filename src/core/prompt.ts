import type { PreTrainedTokenizer } from '@huggingface/transformers';

/**
 * The one place where a message becomes model input. Training data (scripts/prepare-training-data)
 * and the runtime classifier both call these functions, so the prompt the model was trained on is
 * by construction the prompt it is served with.
 */

/** Qwen3's end-of-turn token `<|im_end|>`: the model's answer ends with it. */
export const IM_END_TOKEN_ID = 151645;

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
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

/** Token ids of an answer as the model must produce it: the label, then `<|im_end|>`. */
export function encodeAnswer(tokenizer: PreTrainedTokenizer, label: string): number[] {
  return [...tokenizer.encode(label, { add_special_tokens: false }), IM_END_TOKEN_ID];
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
): TrainingExample {
  const prompt = encodePrompt(tokenizer, text, system);
  return {
    input_ids: [...prompt, ...encodeAnswer(tokenizer, label)],
    answer_start: prompt.length,
    label,
  };
}
