import {
  AutoModelForCausalLM,
  AutoTokenizer,
  Tensor,
  type DataType,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type ProgressInfo,
} from '@huggingface/transformers';
import type { Catalog } from './catalog';
import {
  calibrationProblems,
  normalise,
  routeScores,
  type Calibration,
  type Classification,
  type IntentScore,
} from './classification';
import { AbortError, errorMessage, InputError, ModelLoadError, throwIfAborted } from './errors';
import { LabelTrie, type TrieNode } from './label-trie';
import { readModelCard } from './model-folder';
import { encodeAnswer, encodePrompt } from './prompt';
import { readModelText } from './runtime';
import { buildZeroShotSystemPrompt, type FewShotExample } from './zero-shot';

export type { Classification, IntentScore } from './classification';

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
  /**
   * Thresholds and temperature. Default: the model folder's `calibration.json` when present,
   * otherwise none (every message routes to its top intent).
   */
  calibration?: Calibration | null;
  /**
   * Zero-shot mode: a base Qwen3 folder without `fenliu.json` classifies into `catalog` from a
   * system prompt listing the intents (and these examples).
   */
  zeroShot?: { catalog: Catalog; examples?: FewShotExample[] };
}

export interface ClassifyOptions {
  signal?: AbortSignal;
}

export interface BatchOptions extends ClassifyOptions {
  /** Messages run through the model together (left-padded after the cached prefix). */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ClassifierInfo {
  modelId: string;
  device: Device;
  dtype: DataType;
  labels: string[];
  intents: { id: string; label: string }[];
  fallbackIntent: string;
  system: string | null;
  calibrated: boolean;
  /** Prompt tokens before the message, computed once at load and reused for every message. */
  prefixTokens: number;
  mode: 'fine-tuned' | 'zero-shot';
}

/** Longest message, in characters, given to the model; the rest is cut (the demo's budget). */
export const MAX_INPUT_CHARS = 2000;

const DEFAULT_BATCH_SIZE = 8;

type KeyValues = Record<string, Tensor>;

/** One model call's results: last-position logits per row and the updated key/value cache. */
interface StepOutput {
  logits: Float32Array[];
  present: KeyValues;
}

/** Rows of a batch after the message step: what the branch-point steps continue from. */
interface MessageState extends StepOutput {
  /** Attention mask over prefix + padded message, one row per message. */
  mask: number[][];
  /** Position of each row's last token. */
  lastPosition: number[];
}

/**
 * Routes a message to an intent with a fine-tuned causal LM. The same class runs in-process in
 * Node (CLI, tests) and inside the Web Worker; the worker only exposes it.
 *
 * How a message is classified: the prompt's fixed head (system message, `<|im_start|>user\n`)
 * was run once at load and its key/value cache is reused, so only the message and the template's
 * tail go through the model, with logits for the last position only. The catalog's labels form
 * a token trie; the model is asked only at the trie's branch points, which gives the whole
 * distribution over intents and makes any answer outside the catalog impossible.
 *
 * @example
 * configureRuntime({ modelRoot: 'public/models' });
 * const classifier = await IntentClassifier.load({ modelId: 'fenliu-demo', device: 'cpu' });
 * const result = await classifier.classify('取消我的订阅');
 * result.label; // '取消服务'
 * result.confidence; // 0.97
 */
export class IntentClassifier {
  readonly info: ClassifierInfo;
  private readonly tokenizer: PreTrainedTokenizer;
  private readonly model: PreTrainedModel;
  private readonly trie: LabelTrie;
  private readonly layerCount: number;
  private readonly prefixIds: number[];
  private readonly fallback: { id: string; label: string };
  private calibration: Calibration | null;
  /** Prefix caches by batch size (rows are identical); the batch-1 cache is built at load. */
  private readonly prefixCaches = new Map<number, Promise<KeyValues>>();

  private constructor(
    info: Omit<ClassifierInfo, 'calibrated' | 'prefixTokens'>,
    tokenizer: PreTrainedTokenizer,
    model: PreTrainedModel,
    calibration: Calibration | null,
  ) {
    this.tokenizer = tokenizer;
    this.model = model;
    this.calibration = calibration;
    this.trie = new LabelTrie(info.labels.map((label) => encodeAnswer(tokenizer, label)));
    this.layerCount = (model.config as unknown as { num_hidden_layers: number }).num_hidden_layers;
    this.prefixIds = sharedPromptPrefix(tokenizer, info.system);
    const fallback = info.intents.find((intent) => intent.id === info.fallbackIntent);
    // Model cards and catalogs are validated to contain their fallback; this only narrows the type.
    if (!fallback) throw new Error(`fallback intent ${info.fallbackIntent} is not an intent`);
    this.fallback = fallback;
    this.info = {
      ...info,
      calibrated: calibration !== null,
      prefixTokens: this.prefixIds.length,
    };
  }

  static async load(options: LoadOptions): Promise<IntentClassifier> {
    const { modelId, device, signal, zeroShot } = options;
    throwIfAborted(signal);
    let base: Omit<ClassifierInfo, 'calibrated' | 'prefixTokens' | 'dtype'>;
    let dtype: DataType;
    if (zeroShot) {
      const { catalog, examples = [] } = zeroShot;
      base = {
        modelId,
        device,
        labels: catalog.intents.map((intent) => intent.label),
        intents: catalog.intents.map(({ id, label }) => ({ id, label })),
        fallbackIntent: catalog.fallbackIntent,
        system: buildZeroShotSystemPrompt(catalog, examples),
        mode: 'zero-shot',
      };
      dtype = options.dtype ?? 'q4';
    } else {
      const card = await readModelCard(modelId);
      dtype = options.dtype ?? (card.dtypes[0] as DataType);
      if (!card.dtypes.includes(dtype)) {
        throw new ModelLoadError(
          'model-load-failed',
          `Model "${modelId}" ships ${card.dtypes.join(', ')}, not ${dtype}. ` +
            `Fix: load one of those dtypes or export ${dtype} with training/export.py.`,
        );
      }
      base = {
        modelId,
        device,
        labels: card.labels,
        intents: card.intents,
        fallbackIntent: card.fallbackIntent,
        system: card.system,
        mode: 'fine-tuned',
      };
    }
    const calibration =
      options.calibration === undefined ? await readCalibration(modelId) : options.calibration;
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
    const classifier = new IntentClassifier({ ...base, dtype }, tokenizer, model, calibration);
    try {
      // Computing the prefix cache now is also the session's warm-up.
      await classifier.prefixCache(1);
    } catch (error) {
      await model.dispose();
      throw new ModelLoadError(
        'model-load-failed',
        `Model "${modelId}" (${dtype}, ${device}) loaded but failed its first run: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    return classifier;
  }

  /** Replaces the thresholds and temperature used by later calls (null: top intent always). */
  setCalibration(calibration: Calibration | null): void {
    this.calibration = calibration;
    this.info.calibrated = calibration !== null;
  }

  /** Classifies one message. Throws `InputError` for an empty message. */
  async classify(text: string, options: ClassifyOptions = {}): Promise<Classification> {
    const [result] = await this.classifyBatch([text], { ...options, batchSize: 1 });
    // classifyBatch returns one result per message; this only narrows the type.
    if (!result) throw new Error('no classification returned');
    return result;
  }

  /**
   * Classifies many messages, `batchSize` at a time. Each result's `latencyMs` is its batch's
   * wall time divided by the batch's size (the cost per message when evaluating in bulk).
   */
  async classifyBatch(
    texts: readonly string[],
    options: BatchOptions = {},
  ): Promise<Classification[]> {
    const { signal, onProgress } = options;
    const batchSize = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH_SIZE));
    const prompts = texts.map((text) => this.encodeMessage(text));
    const results: Classification[] = [];
    for (let start = 0; start < prompts.length; start += batchSize) {
      throwIfAborted(signal);
      const started = performance.now();
      const chunk = prompts.slice(start, start + batchSize);
      const cached = chunk.every((ids) => startsWith(ids, this.prefixIds));
      // NOTE: the prefix always matches for trimmed text (the template puts a newline before the
      // message, which BPE never merges with it); the uncached path is a guard, not a mode.
      const outcomes = cached
        ? await this.scoreBatch(chunk, signal)
        : await this.scoreEachUncached(chunk, signal);
      const latencyMs = (performance.now() - started) / chunk.length;
      chunk.forEach((ids, index) => {
        const outcome = outcomes.logProbs[index];
        if (!outcome) throw new Error('missing batch row');
        results.push(
          this.toClassification(outcome, {
            latencyMs,
            computedTokens: cached ? ids.length - this.prefixIds.length : ids.length,
            decodeSteps: outcomes.decodeSteps,
          }),
        );
      });
      onProgress?.(results.length, prompts.length);
    }
    return results;
  }

  async dispose(): Promise<void> {
    for (const cache of this.prefixCaches.values()) {
      disposeAll(await cache.catch(() => ({})));
    }
    this.prefixCaches.clear();
    await this.model.dispose();
  }

  private encodeMessage(text: string): number[] {
    const message = text.trim().slice(0, MAX_INPUT_CHARS);
    if (message === '') throw new InputError('The message is empty.');
    return encodePrompt(this.tokenizer, message, this.info.system);
  }

  private toClassification(
    logProbs: number[],
    cost: Pick<Classification, 'latencyMs' | 'computedTokens' | 'decodeSteps'>,
  ): Classification {
    const probabilities = normalise(logProbs, this.calibration?.temperature ?? 1);
    const scores: IntentScore[] = this.info.intents
      .map((intent, index) => ({
        intentId: intent.id,
        label: intent.label,
        probability: probabilities[index] ?? 0,
        logProb: logProbs[index] ?? Number.NEGATIVE_INFINITY,
      }))
      .sort((a, b) => b.probability - a.probability);
    const [top, second] = scores;
    if (!top) throw new Error('no intents');
    const decision = routeScores(scores, this.fallback, this.calibration);
    return {
      ...decision,
      top,
      confidence: top.probability,
      margin: top.probability - (second?.probability ?? 0),
      scores,
      ...cost,
    };
  }

  /** Rows share the cached prefix; each row's message is left-padded to the longest. */
  private async scoreBatch(
    prompts: number[][],
    signal: AbortSignal | undefined,
  ): Promise<{ logProbs: number[][]; decodeSteps: number }> {
    const prefixLength = this.prefixIds.length;
    const messages = prompts.map((ids) => ids.slice(prefixLength));
    const width = Math.max(...messages.map((ids) => ids.length));
    const inputIds = messages.map((ids) => [
      ...new Array<number>(width - ids.length).fill(0),
      ...ids,
    ]);
    const mask = messages.map((ids) => [
      ...new Array<number>(prefixLength).fill(1),
      ...new Array<number>(width - ids.length).fill(0),
      ...new Array<number>(ids.length).fill(1),
    ]);
    const positions = messages.map((ids) => [
      ...new Array<number>(width - ids.length).fill(0),
      ...ids.map((_, index) => prefixLength + index),
    ]);
    const past = await this.prefixCache(prompts.length);
    throwIfAborted(signal);
    const step = await this.step(inputIds, mask, positions, past);
    return this.scoreBranchPoints(
      { ...step, mask, lastPosition: messages.map((ids) => prefixLength + ids.length - 1) },
      signal,
    );
  }

  private async scoreEachUncached(
    prompts: number[][],
    signal: AbortSignal | undefined,
  ): Promise<{ logProbs: number[][]; decodeSteps: number }> {
    const logProbs: number[][] = [];
    let decodeSteps = 0;
    for (const ids of prompts) {
      const outcome = await this.scoreUncached(ids, signal);
      logProbs.push(...outcome.logProbs);
      decodeSteps = outcome.decodeSteps;
    }
    return { logProbs, decodeSteps };
  }

  /** The whole prompt without the cache, for one message (see the NOTE in classifyBatch). */
  private async scoreUncached(
    ids: number[],
    signal: AbortSignal | undefined,
  ): Promise<{ logProbs: number[][]; decodeSteps: number }> {
    throwIfAborted(signal);
    const mask = [ids.map(() => 1)];
    const step = await this.step([ids], mask, [ids.map((_, index) => index)], undefined);
    return this.scoreBranchPoints({ ...step, mask, lastPosition: [ids.length - 1] }, signal);
  }

  /**
   * Runs the model once per branch point below the root (feeding the point's path after each
   * message), then reads every label's constrained log-probability off the trie. Disposes the
   * message's cache when done.
   */
  private async scoreBranchPoints(
    state: MessageState,
    signal: AbortSignal | undefined,
  ): Promise<{ logProbs: number[][]; decodeSteps: number }> {
    const rows = state.mask.length;
    const logitsByNode = new Map<TrieNode, Float32Array[]>();
    let decodeSteps = 0;
    try {
      for (const node of this.trie.branchPoints) {
        if (node.path.length === 0) {
          logitsByNode.set(node, state.logits);
          continue;
        }
        throwIfAborted(signal);
        const inputIds = state.mask.map(() => [...node.path]);
        const mask = state.mask.map((row) => [...row, ...node.path.map(() => 1)]);
        const positions = state.lastPosition.map((last) =>
          node.path.map((_, index) => last + 1 + index),
        );
        const step = await this.step(inputIds, mask, positions, state.present);
        disposeAll(step.present);
        logitsByNode.set(node, step.logits);
        decodeSteps += 1;
      }
    } finally {
      disposeAll(state.present);
    }
    const logProbs = Array.from({ length: rows }, (_, row) =>
      this.trie.labelLogProbs((node) => {
        const logits = logitsByNode.get(node)?.[row];
        if (!logits) throw new Error('branch point without logits');
        return logits;
      }),
    );
    return { logProbs, decodeSteps };
  }

  private prefixCache(batchSize: number): Promise<KeyValues> {
    let cache = this.prefixCaches.get(batchSize);
    if (!cache) {
      const ids = Array.from({ length: batchSize }, () => this.prefixIds);
      const mask = ids.map((row) => row.map(() => 1));
      const positions = ids.map((row) => row.map((_, index) => index));
      cache = this.step(ids, mask, positions, undefined).then((step) => step.present);
      // A failed prefix run must not poison later calls with a rejected promise.
      cache.catch(() => this.prefixCaches.delete(batchSize));
      this.prefixCaches.set(batchSize, cache);
    }
    return cache;
  }

  /** One forward pass with logits for the last position of each row only. */
  private async step(
    inputIds: number[][],
    mask: number[][],
    positions: number[][],
    past: KeyValues | undefined,
  ): Promise<StepOutput> {
    const pastInputs: KeyValues = {};
    if (past) {
      for (let layer = 0; layer < this.layerCount; layer++) {
        for (const kind of ['key', 'value']) {
          const tensor = past[`present.${layer}.${kind}`];
          if (!tensor) throw new Error(`cache misses layer ${layer} ${kind}`);
          pastInputs[`past_key_values.${layer}.${kind}`] = tensor;
        }
      }
    }
    const outputs = (await this.model.forward({
      input_ids: int64Tensor(inputIds),
      attention_mask: int64Tensor(mask),
      position_ids: int64Tensor(positions),
      num_logits_to_keep: new Tensor('int64', BigInt64Array.of(1n), []),
      // Without a cache, transformers.js builds the empty first-step cache itself.
      past_key_values: past ? pastInputs : undefined,
    })) as Record<string, Tensor>;
    const { logits, ...rest } = outputs;
    if (!logits) throw new Error('the model returned no logits');
    const present: KeyValues = {};
    for (const [name, tensor] of Object.entries(rest)) {
      if (name.startsWith('present.')) present[name] = tensor;
    }
    return { logits: lastPositionRows(logits), present };
  }
}

/**
 * The token ids every prompt starts with (system message and `<|im_start|>user\n`): the common
 * prefix of two prompts whose messages share nothing.
 */
function sharedPromptPrefix(tokenizer: PreTrainedTokenizer, system: string | null): number[] {
  const a = encodePrompt(tokenizer, 'a', system);
  const b = encodePrompt(tokenizer, '你', system);
  let length = 0;
  while (length < a.length && a[length] === b[length]) length++;
  return a.slice(0, length);
}

function startsWith(ids: readonly number[], prefix: readonly number[]): boolean {
  return prefix.every((token, index) => ids[index] === token);
}

function int64Tensor(rows: number[][]): Tensor {
  const width = rows[0]?.length ?? 0;
  const data = new BigInt64Array(rows.length * width);
  rows.forEach((row, r) => {
    row.forEach((value, c) => {
      data[r * width + c] = BigInt(value);
    });
  });
  return new Tensor('int64', data, [rows.length, width]);
}

/** `[batch, positions, vocab]` logits → the last position's row for each batch entry. */
function lastPositionRows(logits: Tensor): Float32Array[] {
  const [batch = 1, positions = 1, vocab = 0] = logits.dims;
  const data = toFloat32(logits);
  return Array.from({ length: batch }, (_, row) => {
    const start = (row * positions + positions - 1) * vocab;
    return data.subarray(start, start + vocab);
  });
}

function toFloat32(tensor: Tensor): Float32Array {
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') {
    const data = tensor.data as ArrayLike<number>;
    // Float16Array (newer runtimes) already holds numbers; Uint16Array holds raw half bits.
    if (!(data instanceof Uint16Array)) return Float32Array.from(data);
    return Float32Array.from(data, halfToFloat);
  }
  throw new Error(`unsupported logits type ${tensor.type}`);
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function disposeAll(tensors: KeyValues): void {
  for (const tensor of Object.values(tensors)) tensor.dispose();
}

async function readCalibration(modelId: string): Promise<Calibration | null> {
  let text: string;
  try {
    text = await readModelText(modelId, 'calibration.json');
  } catch {
    // NOTE: calibration is optional; a folder without it routes every message to its top intent.
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ModelLoadError('model-folder-invalid', `${modelId}/calibration.json is not JSON`, {
      cause: error,
    });
  }
  const problems = calibrationProblems(value);
  if (problems.length > 0) {
    throw new ModelLoadError(
      'model-folder-invalid',
      `${modelId}/calibration.json: ${problems.join('; ')}. Fix: run \`fenliu calibrate --write\` again.`,
    );
  }
  return value as Calibration;
}
