import {
  AutoModelForCausalLM,
  AutoTokenizer,
  Tensor,
  type DataType,
  type PreTrainedModel,
  type PreTrainedTokenizer,
} from '@huggingface/transformers';
import { IntentClassifier, type Device } from '../../src/engine/classifier';
import type { Catalog } from '../../src/catalog/types';
import { encodeAnswer, encodePrompt } from '../../src/engine/prompt';
import { buildZeroShotSystemPrompt } from '../../src/engine/zero-shot';

/**
 * The two ways of getting an intent out of a causal LM that `npm run bench` compares, written
 * once for Node and the browser.
 *
 * - naive: the seed recipe — sample up to 50 tokens at temperature 0.7 from the full prompt,
 *   then parse the text for a label.
 * - engine: `IntentClassifier` (cached prompt prefix, label trie, last-position logits).
 */

export interface LabelledMessage {
  text: string;
  label: string;
}

export interface SuiteResult {
  recipe: 'naive' | 'naive-stopped' | 'engine';
  messages: number;
  validRate: number;
  accuracy: number;
  /** Per-message time to intent, in ms: the first message, then percentiles of the rest. */
  firstMs: number;
  p50Ms: number;
  p95Ms: number;
  meanMs: number;
  /** Tokens run through the model per message, on average (prompt + generated for naive). */
  meanTokens: number;
}

export interface BenchCase {
  modelId: string;
  device: Device;
  dtype: DataType;
  /** `fine-tuned`: the model card's prompt; `zero-shot`: a system prompt listing the catalog. */
  prompt: 'fine-tuned' | 'zero-shot';
  catalog: Catalog;
}

export interface CaseResult {
  loadMs: { naive: number; engine: number };
  naive: SuiteResult;
  /**
   * The naive recipe capped at the longest label's tokens: what it costs when the model stops right
   * after its label, as a fine-tuned model does (random real-size weights never stop by themselves).
   */
  naiveStopped: SuiteResult;
  engine: SuiteResult;
  /** Non-embedding parameters and the engine's mean computed tokens, for the compute floor. */
  model: { hiddenSize: number; layers: number; vocab: number; matmulParams: number };
  prefixTokens: number;
}

/** The seed recipe's parse: the answer if it is a label, else the first label it contains. */
export function parseNaiveAnswer(text: string, labels: readonly string[]): string | null {
  const answer = text.trim();
  if (labels.includes(answer)) return answer;
  return labels.find((label) => answer.includes(label)) ?? null;
}

export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

function summarise(
  recipe: SuiteResult['recipe'],
  times: number[],
  tokens: number[],
  predictions: (string | null)[],
  messages: readonly LabelledMessage[],
): SuiteResult {
  const rest = times.slice(1).sort((a, b) => a - b);
  const valid = predictions.filter((label) => label !== null).length;
  const correct = predictions.filter((label, index) => label === messages[index]?.label).length;
  return {
    recipe,
    messages: messages.length,
    validRate: valid / messages.length,
    accuracy: correct / messages.length,
    firstMs: times[0] ?? Number.NaN,
    p50Ms: percentile(rest.length > 0 ? rest : times, 0.5),
    p95Ms: percentile(rest.length > 0 ? rest : times, 0.95),
    meanMs: times.reduce((a, b) => a + b, 0) / times.length,
    meanTokens: tokens.reduce((a, b) => a + b, 0) / tokens.length,
  };
}

/**
 * Runs `classify` on each message in turn, as in a chat, timing each call (parsing included), and
 * sums the suite up.
 */
async function timeSuite(
  recipe: SuiteResult['recipe'],
  messages: readonly LabelledMessage[],
  classify: (text: string) => Promise<{ label: string | null; tokens: number }>,
): Promise<SuiteResult> {
  const times: number[] = [];
  const tokens: number[] = [];
  const predictions: (string | null)[] = [];
  for (const { text } of messages) {
    const started = performance.now();
    const result = await classify(text);
    times.push(performance.now() - started);
    predictions.push(result.label);
    tokens.push(result.tokens);
  }
  return summarise(recipe, times, tokens, predictions, messages);
}

function runNaive(
  model: PreTrainedModel,
  tokenizer: PreTrainedTokenizer,
  system: string | null,
  labels: readonly string[],
  messages: readonly LabelledMessage[],
  maxNewTokens = 50,
): Promise<SuiteResult> {
  const recipe = maxNewTokens === 50 ? 'naive' : 'naive-stopped';
  return timeSuite(recipe, messages, async (text) => {
    const prompt = encodePrompt(tokenizer, text, system);
    const inputs = new Tensor('int64', BigInt64Array.from(prompt.map(BigInt)), [1, prompt.length]);
    const output = (await model.generate({
      inputs,
      max_new_tokens: maxNewTokens,
      do_sample: true,
      temperature: 0.7,
    })) as Tensor;
    const sequence = Array.from(output.data as BigInt64Array, Number);
    const answer = tokenizer.decode(sequence.slice(prompt.length), { skip_special_tokens: true });
    return { label: parseNaiveAnswer(answer, labels), tokens: sequence.length };
  });
}

function runEngine(
  classifier: IntentClassifier,
  messages: readonly LabelledMessage[],
): Promise<SuiteResult> {
  return timeSuite('engine', messages, async (text) => {
    const result = await classifier.classify(text);
    // NOTE: the top label, before thresholds: the naive recipe has no thresholds to compare with.
    return { label: result.top.label, tokens: result.computedTokens + result.decodeSteps };
  });
}

interface QwenConfig {
  hidden_size: number;
  num_hidden_layers: number;
  vocab_size: number;
  intermediate_size: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim?: number;
}

/** Weights multiplied per token in the decoder layers (q, k, v, o and the three MLP matrices). */
export function layerMatmulParams(config: QwenConfig): number {
  const headDim = config.head_dim ?? config.hidden_size / config.num_attention_heads;
  const attention =
    config.hidden_size *
    headDim *
    (2 * config.num_attention_heads + 2 * config.num_key_value_heads);
  const mlp = 3 * config.hidden_size * config.intermediate_size;
  return config.num_hidden_layers * (attention + mlp);
}

export interface NaiveResult {
  loadMs: number;
  naive: SuiteResult;
  naiveStopped: SuiteResult;
  model: CaseResult['model'];
}

export interface EngineResult {
  loadMs: number;
  engine: SuiteResult;
  prefixTokens: number;
}

/**
 * The naive recipe on `messages`, one at a time as in a chat: sampled up to 50 tokens, then
 * capped at the longest label. The runner calls it before `runEngineCase` in a fresh process or
 * page, so it pays the runtime's cold start (WASM compilation) and the engine does not: the
 * engine's load and first message are then measured with the runtime already warm.
 */
export async function runNaiveCase(
  benchCase: BenchCase,
  messages: readonly LabelledMessage[],
): Promise<NaiveResult> {
  const { modelId, device, dtype, catalog } = benchCase;
  const labels = catalog.intents.map((intent) => intent.label);
  const system = benchCase.prompt === 'zero-shot' ? buildZeroShotSystemPrompt(catalog) : null;
  const started = performance.now();
  const tokenizer = await AutoTokenizer.from_pretrained(modelId);
  const model = await AutoModelForCausalLM.from_pretrained(modelId, { device, dtype });
  const loadMs = performance.now() - started;
  try {
    const naive = await runNaive(model, tokenizer, system, labels, messages);
    const longestAnswer = Math.max(...labels.map((label) => encodeAnswer(tokenizer, label).length));
    const naiveStopped = await runNaive(model, tokenizer, system, labels, messages, longestAnswer);
    const config = model.config as unknown as QwenConfig;
    return {
      loadMs,
      naive,
      naiveStopped,
      model: {
        hiddenSize: config.hidden_size,
        layers: config.num_hidden_layers,
        vocab: config.vocab_size,
        matmulParams: layerMatmulParams(config),
      },
    };
  } finally {
    await model.dispose();
  }
}

/** The engine on `messages`, one at a time; `firstMs` is the first message after loading. */
export async function runEngineCase(
  benchCase: BenchCase,
  messages: readonly LabelledMessage[],
): Promise<EngineResult> {
  const { modelId, device, dtype, catalog } = benchCase;
  const started = performance.now();
  const classifier = await IntentClassifier.load({
    modelId,
    device,
    dtype,
    calibration: null,
    ...(benchCase.prompt === 'zero-shot' ? { zeroShot: { catalog } } : {}),
  });
  const loadMs = performance.now() - started;
  try {
    const engine = await runEngine(classifier, messages);
    return { loadMs, engine, prefixTokens: classifier.info.prefixTokens };
  } finally {
    await classifier.dispose();
  }
}

/** Both halves, naive first (see `runNaiveCase`). */
export async function runCase(
  benchCase: BenchCase,
  messages: readonly LabelledMessage[],
): Promise<CaseResult> {
  const naive = await runNaiveCase(benchCase, messages);
  const engine = await runEngineCase(benchCase, messages);
  return combine(naive, engine);
}

export function combine(naive: NaiveResult, engine: EngineResult): CaseResult {
  return {
    loadMs: { naive: naive.loadMs, engine: engine.loadMs },
    naive: naive.naive,
    naiveStopped: naive.naiveStopped,
    engine: engine.engine,
    model: naive.model,
    prefixTokens: engine.prefixTokens,
  };
}
