import {
  AutoModelForCausalLM,
  AutoTokenizer,
  type PreTrainedModel,
  type PreTrainedTokenizer,
} from '@huggingface/transformers';
import { DEMO_MODEL_ID, PUBLIC_MODELS } from '../../scripts/lib/paths';
import { IntentClassifier } from '../../src/engine/classifier';
import { configureRuntime } from '../../src/engine/runtime';

/**
 * The committed demo model at int8 on the CPU, through the engine: raw by default, or with the
 * folder's calibration.json (`calibrated`), as the widget and the CLI load it.
 */
export async function loadDemoClassifier({ calibrated = false } = {}): Promise<IntentClassifier> {
  configureRuntime({ modelRoot: PUBLIC_MODELS });
  return IntentClassifier.load({
    modelId: DEMO_MODEL_ID,
    device: 'cpu',
    dtype: 'int8',
    ...(!calibrated && { calibration: null }),
  });
}

/**
 * The same model and its tokenizer straight from transformers.js, the reference the engine's
 * own decoding is compared with.
 */
export async function loadDemoReference(): Promise<{
  model: PreTrainedModel;
  tokenizer: PreTrainedTokenizer;
}> {
  configureRuntime({ modelRoot: PUBLIC_MODELS });
  const tokenizer = await AutoTokenizer.from_pretrained(DEMO_MODEL_ID);
  const model = await AutoModelForCausalLM.from_pretrained(DEMO_MODEL_ID, {
    device: 'cpu',
    dtype: 'int8',
  });
  return { model, tokenizer };
}
