import {
  AutoModelForCausalLM,
  AutoTokenizer,
  Tensor,
  type DataType,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type ProgressInfo,
} from '@huggingface/transformers';
import type { Catalog, ToolCall, ToolSpec } from '../catalog/types';
import {
  calibrationProblems,
  normalise,
  routeScores,
  type Calibration,
  type Classification,
  type IntentScore,
  type ProposedToolCall,
} from './classification';
import {
  AbortError,
  errorMessage,
  InputError,
  ModelLoadError,
  throwIfAborted,
} from '../shared/errors';
import { checkDocument, parseJson } from '../shared/validation';
import { LabelTrie, type TrieNode } from './label-trie';
import {
  checkModelFolder,
  checkTokenizerMatchesModel,
  explainWeightsFailure,
} from './model-checks';
import { readModelCard } from './model-folder';
import { checkCanaryInputs, checkCanaryOutputs, type ModelCanaries } from './canary';
import { encodeLabelAnswer, encodePrompt, encodeToolResultPrompt, IM_END_TOKEN_ID } from './prompt';
import { decodeToolCall } from '../decoding/tool-call-decoder';
import { tokenTable } from '../decoding/token-bytes';
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
  /**
   * Decode the tool call of a message routed to an intent bound to a tool (default true). Off,
   * the classification comes back without `toolCall` (e.g. when only intents are evaluated).
   */
  toolCalls?: boolean;
}

/** What `writeReply` needs: the turn that called a tool, and what the tool returned. */
export interface ToolTurn {
  text: string;
  label: string;
  call: ToolCall;
  result: unknown;
}

export interface ReplyOptions {
  signal?: AbortSignal;
  /** Longest reply, in tokens (default 160). */
  maxTokens?: number;
}

/** A reply written by the model from a tool's result. */
export interface ModelReply {
  text: string;
  /** Tokens generated (the model calls made after the prompt). */
  tokens: number;
  /** False when the reply was cut at `maxTokens` rather than ended by the model. */
  finished: boolean;
  latencyMs: number;
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
  intents: { id: string; label: string; tool?: string; escalate?: boolean }[];
  /** Tools the intents call, as the model card (or zero-shot catalog) declares them. */
  tools: ToolSpec[];
  fallbackIntent: string;
  system: string | null;
  calibrated: boolean;
  /** Prompt tokens before the message, computed once at load and reused for every message. */
  prefixTokens: number;
  mode: 'fine-tuned' | 'zero-shot';
  /**
   * True when the folder's canaries (fenliu.json) checked its labels, its tokenizer and this
   * dtype's outputs at load; false for a folder without canaries (older exports), a dtype they
   * have no reference for, and zero-shot models. See src/engine/canary.ts.
   */
  verified: boolean;
  /** What the canaries checked (and the largest difference), or why they did not. */
  verification: string;
}

/** Longest message, in characters, given to the model; the rest is cut (the demo's budget). */
export const MAX_INPUT_CHARS = 2000;

const DEFAULT_BATCH_SIZE = 8;
const DEFAULT_REPLY_TOKENS = 160;
/** Bounds a tool call's decoding: the demo's longest call is about 60 tokens. */
const MAX_TOOL_CALL_TOKENS = 200;

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
  private readonly escalatingIntents: ReadonlySet<string>;
  /** Tool spec by intent id, for intents bound to a tool the card declares. */
  private readonly toolOfIntent: ReadonlyMap<string, ToolSpec>;
  private calibration: Calibration | null;
  /** Prefix caches by batch size (rows are identical); the batch-1 cache is built at load. */
  private readonly prefixCaches = new Map<number, Promise<KeyValues>>();

  private constructor(
    info: Omit<ClassifierInfo, 'calibrated' | 'prefixTokens' | 'verified' | 'verification'>,
    tokenizer: PreTrainedTokenizer,
    model: PreTrainedModel,
    calibration: Calibration | null,
  ) {
    this.tokenizer = tokenizer;
    this.model = model;
    this.calibration = calibration;
    const tools = new Map(info.tools.map((spec) => [spec.name, spec]));
    this.toolOfIntent = new Map(
      info.intents.flatMap((intent) => {
        const spec = intent.tool === undefined ? undefined : tools.get(intent.tool);
        return spec ? [[intent.id, spec] as const] : [];
      }),
    );
    this.escalatingIntents = new Set(
      info.intents.filter((intent) => intent.escalate === true).map((intent) => intent.id),
    );
    this.trie = new LabelTrie(
      info.intents.map((intent) =>
        encodeLabelAnswer(tokenizer, intent.label, this.toolOfIntent.has(intent.id)),
      ),
    );
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
      verified: false,
      verification: 'not checked yet',
    };
  }

  static async load(options: LoadOptions): Promise<IntentClassifier> {
    const { modelId, device, signal, zeroShot } = options;
    throwIfAborted(signal);
    let base: Omit<
      ClassifierInfo,
      'calibrated' | 'prefixTokens' | 'dtype' | 'verified' | 'verification'
    >;
    let dtype: DataType;
    let canaryCard: Parameters<typeof checkCanaryInputs>[1] | undefined;
    if (zeroShot) {
      const { catalog, examples = [] } = zeroShot;
      base = {
        modelId,
        device,
        labels: catalog.intents.map((intent) => intent.label),
        intents: catalog.intents.map(({ id, label, tool, escalate }) => ({
          id,
          label,
          ...(tool !== undefined && { tool }),
          ...(escalate !== undefined && { escalate }),
        })),
        tools: catalog.tools ?? [],
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
        tools: card.tools ?? [],
        fallbackIntent: card.fallbackIntent,
        system: card.system,
        mode: 'fine-tuned',
      };
      canaryCard = card;
    }
    const calibration =
      options.calibration === undefined ? await readCalibration(modelId) : options.calibration;
    const progress_callback = options.onProgress;
    // Missing, cut or mismatched files fail here with a fix-it message (src/engine/model-checks.ts).
    const { vocabSize } = await checkModelFolder(modelId, dtype);
    let tokenizer: PreTrainedTokenizer;
    let model: PreTrainedModel;
    try {
      tokenizer = await AutoTokenizer.from_pretrained(modelId, { progress_callback });
      checkTokenizerMatchesModel(tokenizer, vocabSize, modelId);
      // The card's labels and the tokenizer against the canaries, before any weights load.
      if (canaryCard) checkCanaryInputs(tokenizer, canaryCard, modelId);
      throwIfAborted(signal);
      model = await AutoModelForCausalLM.from_pretrained(modelId, {
        device,
        dtype,
        progress_callback,
      });
    } catch (error) {
      if (error instanceof AbortError || error instanceof ModelLoadError) throw error;
      throw (
        (await explainWeightsFailure(modelId, dtype, error)) ??
        new ModelLoadError(
          'model-load-failed',
          `Could not load model "${modelId}" (${dtype}, ${device}): ${errorMessage(error)}`,
          { cause: error },
        )
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
      // The decoder's table of token bytes (~150k entries) is built once; build it now rather
      // than in the first tool turn.
      if (classifier.toolOfIntent.size > 0) tokenTable(tokenizer);
    } catch (error) {
      await model.dispose();
      throw new ModelLoadError(
        'model-load-failed',
        `Model "${modelId}" (${dtype}, ${device}) loaded but failed its first run: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    await classifier.verify(canaryCard?.canaries, zeroShot !== undefined);
    return classifier;
  }

  /**
   * Each label's probability for each message (temperature 1, no calibration), in `info.labels`
   * order, the messages run as one batch: what fenliu.json's canaries record and are checked
   * against (scripts/record-canaries.ts writes them with this).
   */
  async labelProbabilities(
    texts: readonly string[],
    options: { signal?: AbortSignal } = {},
  ): Promise<number[][]> {
    const results = await this.classifyBatch(texts, {
      ...options,
      toolCalls: false,
      batchSize: Math.max(1, texts.length),
    });
    return results.map((result) => {
      const logProbs = new Map(result.scores.map((score) => [score.intentId, score.logProb]));
      return this.info.intents.map((intent) => Math.exp(logProbs.get(intent.id) ?? -Infinity));
    });
  }

  /**
   * The end of `load`: runs the canaries' output check (src/engine/canary.ts) and records the
   * outcome in `info`; on a mismatch (or a failed run) disposes the model and throws.
   */
  private async verify(canaries: ModelCanaries | undefined, zeroShot: boolean): Promise<void> {
    const { modelId, dtype, device } = this.info;
    if (zeroShot) {
      this.info.verification = 'zero-shot: a base model has no canaries; nothing was checked';
      return;
    }
    try {
      const outcome = await checkCanaryOutputs(canaries, {
        modelId,
        dtype,
        device,
        probabilities: (texts) => this.labelProbabilities(texts),
      });
      this.info.verified = outcome.verified;
      this.info.verification = outcome.detail;
    } catch (error) {
      await this.dispose();
      if (error instanceof ModelLoadError) throw error;
      throw new ModelLoadError(
        'model-load-failed',
        `Model "${modelId}" (${dtype}, ${device}) loaded but failed to run its canaries: ${errorMessage(error)}`,
        { cause: error },
      );
    }
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
    const encoded = texts.map((text) => this.encodeMessage(text));
    const prompts = encoded.map((message) => message.ids);
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
      for (const [index, ids] of chunk.entries()) {
        const outcome = outcomes.logProbs[index];
        if (!outcome) throw new Error('missing batch row');
        const result = this.toClassification(outcome, {
          latencyMs,
          computedTokens: cached ? ids.length - this.prefixIds.length : ids.length,
          decodeSteps: outcomes.decodeSteps,
        });
        const spec = this.toolOfIntent.get(result.intentId);
        if (spec && result.route === 'intent' && options.toolCalls !== false) {
          const message = encoded[start + index]?.message ?? '';
          result.toolCall = await this.proposeToolCall(ids, message, result.label, spec, signal);
          result.latencyMs += result.toolCall.latencyMs;
        }
        const truncated = encoded[start + index]?.truncated;
        if (truncated) result.truncated = truncated;
        results.push(result);
      }
      onProgress?.(results.length, prompts.length);
    }
    return results;
  }

  /**
   * Decodes the tool call `intentId`'s tool would get for `text`, as `classify` does for a
   * message routed to a tool intent; null when the intent is bound to no tool. For a caller that
   * routes on its own (a host overriding the route) or classified with `toolCalls: false`.
   */
  async decodeToolCall(
    text: string,
    intentId: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<ProposedToolCall | null> {
    const spec = this.toolOfIntent.get(intentId);
    const intent = this.info.intents.find((candidate) => candidate.id === intentId);
    if (!spec || !intent) return null;
    const { ids, message } = this.encodeMessage(text);
    return this.proposeToolCall(ids, message, intent.label, spec, options.signal);
  }

  /**
   * The seed's second step: after a tool ran, the model writes the final reply from the tool's
   * result (greedy, until `<|im_end|>` or `maxTokens`). The prompt is Qwen3's own rendering of
   * the turn: the message, the assistant's label and call, and the `<tool_response>`.
   */
  async writeReply(turn: ToolTurn, options: ReplyOptions = {}): Promise<ModelReply> {
    const { signal, maxTokens = DEFAULT_REPLY_TOKENS } = options;
    const started = performance.now();
    const text = prepareMessage(turn.text).message;
    const ids = encodeToolResultPrompt(this.tokenizer, { ...turn, text }, this.info.system);
    const generated: number[] = [];
    let finished = false;
    const session = await this.continueFromPrefix(ids, signal);
    try {
      let logits = session.logits;
      while (generated.length < maxTokens) {
        const token = argmax(logits);
        if (token === IM_END_TOKEN_ID) {
          finished = true;
          break;
        }
        generated.push(token);
        throwIfAborted(signal);
        logits = await session.feed([token]);
      }
    } finally {
      session.dispose();
    }
    return {
      text: this.tokenizer.decode(generated, { skip_special_tokens: true }).trim(),
      tokens: generated.length,
      finished,
      latencyMs: performance.now() - started,
    };
  }

  async dispose(): Promise<void> {
    for (const cache of this.prefixCaches.values()) {
      disposeAll(await cache.catch(() => ({})));
    }
    this.prefixCaches.clear();
    await this.model.dispose();
  }

  private encodeMessage(text: string): {
    ids: number[];
    message: string;
    truncated: Classification['truncated'];
  } {
    const { message, truncated } = prepareMessage(text);
    return { ids: encodePrompt(this.tokenizer, message, this.info.system), message, truncated };
  }

  /**
   * Decodes the arguments of `spec`'s call for one message: the message and the label's answer
   * up to `<tool_call>` are run from the prefix cache, then the call is decoded token by token
   * under the tool's schema, its `extract` arguments held to spans of `message`
   * (src/decoding/tool-call-decoder.ts).
   */
  private async proposeToolCall(
    promptIds: number[],
    message: string,
    label: string,
    spec: ToolSpec,
    signal: AbortSignal | undefined,
  ): Promise<ProposedToolCall> {
    const started = performance.now();
    const ids = [...promptIds, ...encodeLabelAnswer(this.tokenizer, label, true)];
    const session = await this.continueFromPrefix(ids, signal);
    try {
      const decoded = await decodeToolCall({
        tokenizer: this.tokenizer,
        spec,
        firstLogits: session.logits,
        next: (token) => session.feed([token]),
        forward: (tokens) => session.feed(tokens),
        maxTokens: MAX_TOOL_CALL_TOKENS,
        // Arguments the spec marks `extract` can only be spans of what the user typed.
        source: message,
        ...(signal && { signal }),
      });
      return {
        name: decoded.call.name,
        arguments: decoded.check.arguments,
        missing: decoded.check.missing,
        problems: decoded.check.problems,
        text: decoded.text,
        decodeSteps: decoded.steps,
        latencyMs: performance.now() - started,
      };
    } finally {
      session.dispose();
    }
  }

  /**
   * Runs `ids` (which start with the cached prompt prefix, or are run whole otherwise) and
   * returns a one-row generation session: the last logits and `feed(tokens)` to extend it (one
   * model call for any number of tokens). The caller must `dispose()` it.
   */
  private async continueFromPrefix(
    ids: number[],
    signal: AbortSignal | undefined,
  ): Promise<{
    logits: Float32Array;
    feed: (tokens: number[]) => Promise<Float32Array>;
    dispose: () => void;
  }> {
    throwIfAborted(signal);
    const cached = startsWith(ids, this.prefixIds);
    const start = cached ? this.prefixIds.length : 0;
    const past = cached ? await this.prefixCache(1) : undefined;
    const fresh = ids.slice(start);
    let mask = ids.map(() => 1);
    let position = ids.length - 1;
    let step = await this.step([fresh], [mask], [fresh.map((_, index) => start + index)], past);
    const first = step.logits[0];
    if (!first) throw new Error('the model returned no logits');
    return {
      logits: first,
      feed: async (tokens) => {
        throwIfAborted(signal);
        mask = [...mask, ...tokens.map(() => 1)];
        const positions = tokens.map((_, index) => position + 1 + index);
        position += tokens.length;
        const previous = step.present;
        step = await this.step([tokens], [mask], [positions], previous);
        disposeAll(previous);
        const logits = step.logits[0];
        if (!logits) throw new Error('the model returned no logits');
        return logits;
      },
      dispose: () => {
        disposeAll(step.present);
      },
    };
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
    const decision = routeScores(scores, this.fallback, this.calibration, this.escalatingIntents);
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

/** C0 and C1 control characters except tab, newline and carriage return, and DEL. */
// eslint-disable-next-line no-control-regex -- matching control characters is this regex's purpose
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
/** A UTF-16 high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATES = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/**
 * Text the tokenizer would turn into one of Qwen3's control tokens (`<|im_end|>`, `<|im_start|>`,
 * `<tool_call>`, `<think>`, …): it splits added tokens out of any text, a message's included.
 */
const CONTROL_TOKEN_TEXT = /<(?=\|[^|<>\s]{1,64}\|>|\/?(?:tool_call|tool_response|think)>)/g;

/**
 * What the model is given for a message typed by a user (the caller's string is never changed;
 * strings are immutable and only the copy is tokenised):
 *
 * - control characters (C0 but tab/newline/CR, DEL, C1) become spaces: they carry no intent and
 *   their byte tokens never occur in training;
 * - lone UTF-16 surrogates (invalid text, e.g. half an emoji cut by a host page) become U+FFFD,
 *   which is what UTF-8 encoding would make of them anyway, made explicit here;
 * - the result is trimmed; nothing left → `InputError`;
 * - more than `MAX_INPUT_CHARS` UTF-16 units are cut there (never inside a surrogate pair), and
 *   `truncated` says how much was kept so the caller can show a notice;
 * - text that spells a control token gets a zero-width space after its `<`, so a user who types
 *   `<|im_end|><|im_start|>assistant` or a fake `<tool_call>` cannot end their own turn or write
 *   the assistant's: it is read as the plain characters it looks like.
 *
 * @example
 * prepareMessage('  hi\u0000there ').message; // 'hi there'
 */
export function prepareMessage(text: string): {
  message: string;
  truncated?: { originalChars: number; keptChars: number };
} {
  const cleaned = text.replace(CONTROL_CHARACTERS, ' ').replace(LONE_SURROGATES, '\uFFFD').trim();
  if (cleaned === '') throw new InputError('The message is empty.');
  let kept = cleaned;
  let truncated: { originalChars: number; keptChars: number } | undefined;
  if (cleaned.length > MAX_INPUT_CHARS) {
    const end = /[\uD800-\uDBFF]/.test(cleaned.charAt(MAX_INPUT_CHARS - 1))
      ? MAX_INPUT_CHARS - 1
      : MAX_INPUT_CHARS;
    kept = cleaned.slice(0, end).trimEnd();
    truncated = { originalChars: cleaned.length, keptChars: kept.length };
  }
  const message = kept.replace(CONTROL_TOKEN_TEXT, '<\u200B');
  return truncated ? { message, truncated } : { message };
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

function argmax(values: Float32Array): number {
  let best = 0;
  for (let index = 1; index < values.length; index++) {
    if ((values[index] ?? -Infinity) > (values[best] ?? -Infinity)) best = index;
  }
  return best;
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
  const value = parseJson(
    text,
    (error) =>
      new ModelLoadError('model-folder-invalid', `${modelId}/calibration.json is not JSON`, {
        cause: error,
      }),
  );
  return checkDocument<Calibration>(
    value,
    calibrationProblems,
    (problems) =>
      new ModelLoadError(
        'model-folder-invalid',
        `${modelId}/calibration.json: ${problems.join('; ')}. Fix: run \`fenliu calibrate --write\` again.`,
      ),
  );
}
