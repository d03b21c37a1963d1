import { beforeAll, describe, expect, it } from 'vitest';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { encodePrompt, encodeTrainingExample, IM_END_TOKEN_ID } from '../../src/engine/prompt';
import { loadQwen3Tokenizer } from '../../scripts/lib/tokenizer';

let tokenizer: PreTrainedTokenizer;
beforeAll(async () => {
  tokenizer = await loadQwen3Tokenizer();
});

describe('prompt format (real Qwen3 tokenizer)', () => {
  it('encodes a user turn with thinking off', () => {
    // <|im_start|>user\n 取消我的订阅 <|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n
    expect(encodePrompt(tokenizer, '取消我的订阅', null)).toEqual([
      151644, 872, 198, 50350, 97611, 108959, 151645, 198, 151644, 77091, 198, 151667, 271, 151668,
      271,
    ]);
  });

  it.each([null, '你是电商客服的意图分类器。'])(
    'builds a training example that is the runtime prompt plus the answer (system %s)',
    (system) => {
      const example = encodeTrainingExample(tokenizer, '修改我的收货地址', '修改信息', system);
      const prompt = encodePrompt(tokenizer, '修改我的收货地址', system);
      expect(example.input_ids.slice(0, example.answer_start)).toEqual(prompt);
      expect(example.input_ids.at(-1)).toBe(IM_END_TOKEN_ID);
      // The chat template's own rendering of the finished conversation, minus its final "\n".
      const messages = [
        ...(system === null ? [] : [{ role: 'system', content: system }]),
        { role: 'user', content: '修改我的收货地址' },
        { role: 'assistant', content: '修改信息' },
      ];
      const options = {
        tokenize: true,
        return_tensor: false,
        return_dict: false,
        enable_thinking: false,
      } as const;
      const full = tokenizer.apply_chat_template(messages, options);
      expect(full.slice(0, -1)).toEqual(example.input_ids);
      expect(tokenizer.decode(example.input_ids.slice(example.answer_start))).toBe(
        '修改信息<|im_end|>',
      );
    },
  );
});
