import {
  AutoModelForCausalLM,
  AutoTokenizer,
  Tensor,
  type DataType,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type ProgressInfo,
} from '@huggingface/transformers';
import { AbortError, errorMessage, InputError, ModelLoadError, throwIfAborted } from './errors';
import { readModelCard, type ModelCard } from './model-folder';
import { encodeAnswer, encodePrompt } from './prompt';

/** Where the model runs: `cpu` is onnxruntime-node, `wasm`/`webgpu` are onnxruntime-web. */
export type Device = 'cpu' | 'wasm' | 'webgpu';

export interface LoadOptions {
  /** Folder name under the configured model root (see `configureRuntime`). */
  modelId: string;
  device: Device;
  /** ONNX precision to load; must be one the model card lists. Defaults to its first. */
  dtype?: DataType;
  /** transformers.js's per-file download events (`initiate`, `progress`, `done`, …). */
  onProgress?: (event: ProgressInfo) => void;
  signal?: AbortSignal;
}

export interface ClassifyOptions {
  signal?: AbortSignal;
}

export interface Classification {
  /** Catalog intent id, e.g. `cancel_service`. */
  intentId: string;
  /** The label the model answered with, e.g. `取消服务`. */
  label: string;
  /** False when the model's answer was not a catalog label and the fallback intent was used. */
  valid: boolean;
  /** The model's raw answer text. */
  answer: string;
  /** Wall time of this call, in milliseconds. */
  latencyMs: number;
}

export interface ClassifierInfo {
  modelId: string;
  device: Device;
  dtype: DataType;
  labels: string[];
  system: string | null;
}

/** Longest message, in characters, given to the model; the rest is cut (the demo's budget). */
export const MAX_INPUT_CHARS = 2000;

/**
 * Routes a message to an intent with a fine-tuned causal LM. The same class runs in-process in
 * Node (CLI, tests) and inside the Web Worker; the worker only exposes it.
 *
 * @example
 * configureRuntime({ modelRoot: 'public/models' });
 * const classifier = await IntentClassifier.load({ modelId: 'fenliu-demo', device: 'cpu' });
 * (await classifier.classify('取消我的订阅')).label; // '取消服务'
 */
export class IntentClassifier {
  readonly info: ClassifierInfo;
  private readonly tokenizer: PreTrainedTokenizer;
  private readonly model: PreTrainedModel;
  private readonly card: ModelCard;
  private readonly maxAnswerTokens: number;
  private readonly fallback: { id: string; label: string };

  private constructor(
    info: ClassifierInfo,
    tokenizer: PreTrainedTokenizer,
    model: PreTrainedModel,
    card: ModelCard,
  ) {
    this.info = info;
    this.tokenizer = tokenizer;
    this.model = model;
    this.card = card;
    this.maxAnswerTokens = Math.max(...card.labels.map((l) => encodeAnswer(tokenizer, l).length));
    const fallback = card.intents.find((intent) => intent.id === card.fallbackIntent);
    // parseModelCard guarantees the fallback intent exists; this only narrows the type.
    if (!fallback) throw new Error('model card without its fallback intent');
    this.fallback = fallback;
  }

  static async load(options: LoadOptions): Promise<IntentClassifier> {
    const { modelId, device, signal } = options;
    throwIfAborted(signal);
    const card = await readModelCard(modelId);
    const dtype = options.dtype ?? (card.dtypes[0] as DataType);
    if (!card.dtypes.includes(dtype)) {
      throw new ModelLoadError(
        'model-load-failed',
        `Model "${modelId}" ships ${card.dtypes.join(', ')}, not ${dtype}. ` +
          `Fix: load one of those dtypes or export ${dtype} with training/export.py.`,
      );
    }
    const progress_callback = options.onProgress;
    let tokenizer: PreTrainedTokenizer;
    let model: PreTrainedModel;
    try {
      tokenizer = await AutoTokenizer.from_pretrained(modelId, { progress_callback });
      throwIfAborted(signal);
      model = await AutoModelForCausalLM.from_pretrained(modelId, {
        device,
        dtype,
        progress_callback,
      });
    } catch (error) {
      if (error instanceof AbortError) throw error;
      throw new ModelLoadError(
        'model-load-failed',
        `Could not load model "${modelId}" (${dtype}, ${device}): ${errorMessage(error)}`,
        { cause: error },
      );
    }
    if (signal?.aborted) {
      await model.dispose();
      throw new AbortError();
    }
    const info = { modelId, device, dtype, labels: card.labels, system: card.system };
    return new IntentClassifier(info, tokenizer, model, card);
  }

  /** Classifies one message. Throws `InputError` for an empty message. */
  async classify(text: string, options: ClassifyOptions = {}): Promise<Classification> {
    const started = performance.now();
    const message = text.trim().slice(0, MAX_INPUT_CHARS);
    if (message === '') throw new InputError('The message is empty.');
    throwIfAborted(options.signal);

    const promptIds = encodePrompt(this.tokenizer, message, this.card.system);
    const inputIds = new Tensor('int64', BigInt64Array.from(promptIds.map(BigInt)), [
      1,
      promptIds.length,
    ]);
    const attentionMask = new Tensor('int64', new BigInt64Array(promptIds.length).fill(1n), [
      1,
      promptIds.length,
    ]);
    const output = (await this.model.generate({
      inputs: inputIds,
      attention_mask: attentionMask,
      max_new_tokens: this.maxAnswerTokens,
      do_sample: false,
    })) as Tensor;
    throwIfAborted(options.signal);

    const sequence = Array.from(output.data as BigInt64Array, Number);
    const answer = this.tokenizer
      .decode(sequence.slice(promptIds.length), { skip_special_tokens: true })
      .trim();
    const index = this.card.labels.indexOf(answer);
    const intent = index >= 0 ? this.card.intents[index] : undefined;
    const chosen = intent ?? this.fallback;
    return {
      intentId: chosen.id,
      label: chosen.label,
      valid: intent !== undefined,
      answer,
      latencyMs: performance.now() - started,
    };
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}
