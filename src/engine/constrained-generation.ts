import { LogitsProcessor, type Tensor } from '@huggingface/transformers';
import type { LabelTrie } from './label-trie';

/**
 * A transformers.js `LogitsProcessor` that lets `generate()` produce only the label trie's
 * sequences. The engine itself does not generate (it scores the trie's branch points directly);
 * this processor is the independent reference the tests compare it with, and what a team would
 * bolt onto the naive recipe.
 *
 * @example
 * await model.generate({ inputs, logits_processor: [new LabelTrieLogitsProcessor(trie, promptLength)] });
 */
export class LabelTrieLogitsProcessor extends LogitsProcessor {
  constructor(
    private readonly trie: LabelTrie,
    /** Tokens before the answer: everything after them is the answer so far. */
    private readonly promptLength: number,
  ) {
    super();
  }

  override _call(inputIds: bigint[][], logits: Tensor): Tensor {
    inputIds.forEach((ids, row) => {
      const answer = ids.slice(this.promptLength).map(Number);
      const allowed = new Set(this.trie.allowedNext(answer));
      const scores = (logits as unknown as Tensor[])[row]?.data as Float32Array | undefined;
      if (!scores) return;
      for (let token = 0; token < scores.length; token++) {
        if (!allowed.has(token)) scores[token] = Number.NEGATIVE_INFINITY;
      }
    });
    return logits;
  }
}
