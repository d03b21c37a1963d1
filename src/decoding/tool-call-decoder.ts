import { LogitsProcessor, type PreTrainedTokenizer, type Tensor } from '@huggingface/transformers';
import { throwIfAborted } from '../shared/errors';
import { type ArgumentCheck, checkArguments } from '../catalog/json-schema';
import { ToolCallGrammar, type ToolCallState } from './tool-call-grammar';
import { tokenTable, type TokenTable } from './token-bytes';
import type { ToolCall, ToolSpec } from '../catalog/types';

/**
 * Schema-constrained greedy decoding of one `<tool_call>` block: at every step the model's
 * highest-logit token whose bytes keep the call grammatical (src/decoding/tool-call-grammar.ts).
 * Only the best few tokens are tried (a partial selection of the top 64; a full sort only when
 * none of those fits), so a step costs one pass over the logits instead of masking 151k tokens.
 * Because every grammar state can still be completed, the search never gets stuck, and the
 * result is exactly what masking every disallowed token and taking the argmax would give.
 */

/** Tokens tried before falling back to a full sort of the vocabulary. */
const TOP_CANDIDATES = 64;
/** A call longer than this is closed out (what is finished is kept, nothing is invented). */
export const DEFAULT_MAX_TOOL_CALL_TOKENS = 96;

export interface DecodeToolCallOptions {
  /** The tokenizer (its token table is built on first use), or a table built already. */
  tokenizer?: PreTrainedTokenizer;
  table?: TokenTable;
  /** The tool bound to the intent: its name is written, its schema constrains the arguments. */
  spec: ToolSpec;
  /** Feeds one token and resolves to the logits for the position after it. */
  next: (tokenId: number) => Promise<Float32Array>;
  /**
   * Optional: feeds several tokens in one model run and resolves to the logits after the last.
   * With it (and `tokenizer`), the part of the header every call shares (`\n{"name": "…",
   * "arguments":`, 11 tokens for `lookup_order`) is fed in one step instead of one step per token
   * ("jump-forward" decoding: those tokens are forced, so the model has nothing to choose).
   */
  forward?: (tokenIds: number[]) => Promise<Float32Array>;
  /** Logits after the `<tool_call>` token. */
  firstLogits: Float32Array;
  /** Tokens to generate at most (the closing special tokens not counted); default 96. */
  maxTokens?: number;
  /**
   * Also return `logProb`. Off by default: a log-softmax over the whole vocabulary costs about
   * as much per step as choosing the token, and serving does not use it.
   */
  scoreTokens?: boolean;
  /**
   * The user's message as the model read it: the spec's `extract` arguments are then spans of it
   * (see `ToolCallGrammar`).
   */
  source?: string;
  signal?: AbortSignal;
}

export interface DecodedToolCall {
  /** The tool's name and the arguments that were finished. */
  call: ToolCall;
  /** `call.arguments` checked against the schema: what is missing goes to slot filling. */
  check: ArgumentCheck;
  /** Text after `<tool_call>`, special tokens included by content once the call is complete. */
  text: string;
  /** Token ids after `<tool_call>`; a complete call ends with `</tool_call>` and `<|im_end|>`. */
  tokens: number[];
  /**
   * Model runs (`next` and `forward` calls). The closing special tokens are forced, so they cost
   * none.
   */
  steps: number;
  /**
   * Log-probability of the JSON tokens under the model's unconstrained distribution (only with
   * `scoreTokens`). Tokens the model is not run for are not scored: the closing special tokens,
   * and with `forward` the header tokens after the first.
   */
  logProb?: number;
  /** Whether the JSON was finished; false when `maxTokens` cut it off. */
  complete: boolean;
}

const grammars = new WeakMap<ToolSpec, ToolCallGrammar>();

/** The grammar of `spec`'s call, built once per spec object. */
export function toolCallGrammar(spec: ToolSpec): ToolCallGrammar {
  let grammar = grammars.get(spec);
  if (!grammar) {
    grammar = new ToolCallGrammar(spec);
    grammars.set(spec, grammar);
  }
  return grammar;
}

const headers = new WeakMap<PreTrainedTokenizer, WeakMap<ToolSpec, number[]>>();

/**
 * The tokens every call of `spec` starts with, as the tokenizer splits them: the common token
 * prefix of the header followed by any possible continuation (`"<key>` or `}`), so the split is
 * the one the model was trained on whatever comes next.
 */
export function forcedHeaderTokens(tokenizer: PreTrainedTokenizer, spec: ToolSpec): number[] {
  let bySpec = headers.get(tokenizer);
  if (!bySpec) {
    bySpec = new WeakMap();
    headers.set(tokenizer, bySpec);
  }
  let forced = bySpec.get(spec);
  if (!forced) {
    const { header } = toolCallGrammar(spec);
    const continuations = [
      '}}\n',
      ...Object.keys(spec.parameters.properties).map((key) => `${JSON.stringify(key)}: `),
    ];
    const encodings = continuations.map((continuation) =>
      tokenizer.encode(header + continuation, { add_special_tokens: false }),
    );
    const first = encodings[0] ?? [];
    let length = 0;
    while (
      length < first.length &&
      encodings.every((encoding) => encoding[length] === first[length])
    ) {
      length++;
    }
    forced = first.slice(0, length);
    bySpec.set(spec, forced);
  }
  return forced;
}

/** The state after one token, or `null` if the token breaks the grammar. */
export function advanceToken(
  grammar: ToolCallGrammar,
  table: TokenTable,
  state: ToolCallState,
  tokenId: number,
): ToolCallState | null {
  const special = table.special(tokenId);
  if (special !== undefined) return grammar.advanceSpecial(state, special);
  const bytes = table.bytes(tokenId);
  return bytes ? grammar.advanceBytes(state, bytes) : null;
}

function logitAt(logits: ArrayLike<number>, id: number): number {
  const value = logits[id] ?? Number.NEGATIVE_INFINITY;
  return Number.isNaN(value) ? Number.NEGATIVE_INFINITY : value;
}

/** Higher logit first; ties go to the lower id, like an argmax over the vocabulary. */
function ranksAbove(logits: ArrayLike<number>, a: number, b: number): boolean {
  const difference = logitAt(logits, a) - logitAt(logits, b);
  return difference > 0 || (difference === 0 && a < b) || (Number.isNaN(difference) && a < b);
}

/** The `count` best ids, best first, by a single pass keeping a small sorted buffer. */
function topIds(logits: ArrayLike<number>, size: number, count: number): number[] {
  const best: number[] = [];
  // Logit of the worst id kept once the buffer is full: most ids fail this one comparison (a
  // NaN fails it too; a tie loses to the lower id already kept).
  let threshold = Number.NEGATIVE_INFINITY;
  for (let id = 0; id < size; id++) {
    if (best.length === count && !((logits[id] as number) > threshold)) continue;
    let index = best.length === count ? count - 1 : best.length;
    while (index > 0 && ranksAbove(logits, id, best[index - 1] as number)) {
      best[index] = best[index - 1] as number;
      index--;
    }
    best[index] = id;
    if (best.length === count) threshold = logitAt(logits, best[count - 1] as number);
  }
  return best;
}

/**
 * The highest-ranked token that keeps the call grammatical, with the state after it; undefined
 * only if no token at all fits (impossible for a well-formed table: every state can continue).
 */
export function chooseToken(
  grammar: ToolCallGrammar,
  table: TokenTable,
  state: ToolCallState,
  logits: ArrayLike<number>,
): { tokenId: number; state: ToolCallState } | undefined {
  const size = Math.min(table.size, logits.length);
  const first = topIds(logits, size, TOP_CANDIDATES);
  for (const tokenId of first) {
    const next = advanceToken(grammar, table, state, tokenId);
    if (next) return { tokenId, state: next };
  }
  const tried = new Set(first);
  const all = Array.from({ length: size }, (_, id) => id).sort((a, b) =>
    ranksAbove(logits, a, b) ? -1 : ranksAbove(logits, b, a) ? 1 : 0,
  );
  for (const tokenId of all) {
    if (tried.has(tokenId)) continue;
    const next = advanceToken(grammar, table, state, tokenId);
    if (next) return { tokenId, state: next };
  }
  return undefined;
}

function logSoftmaxAt(logits: ArrayLike<number>, id: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < logits.length; index++) {
    const value = logits[index] as number;
    if (value > max) max = value; // NaN never is
  }
  let sum = 0;
  for (let index = 0; index < logits.length; index++) {
    const shifted = (logits[index] as number) - max;
    // exp(-80) is below float precision next to the maximum's exp(0) = 1.
    if (shifted > -80) sum += Math.exp(shifted);
  }
  return logitAt(logits, id) - max - Math.log(sum);
}

/**
 * Decodes the call that follows `<tool_call>` for `spec`, greedily under its grammar. Arguments
 * the model leaves out, or that `maxTokens` cuts off, are reported in `check.missing`, never
 * filled in. Throws `AbortError` when `signal` aborts between steps.
 *
 * @example
 * const decoded = await decodeToolCall({ tokenizer, spec, firstLogits, next });
 * decoded.call; // { name: 'lookup_order', arguments: { order_id: '2024113012345' } }
 */
export async function decodeToolCall(options: DecodeToolCallOptions): Promise<DecodedToolCall> {
  const { spec, next, signal } = options;
  const maxTokens = options.maxTokens ?? DEFAULT_MAX_TOOL_CALL_TOKENS;
  const table = options.table ?? (options.tokenizer ? tokenTable(options.tokenizer) : undefined);
  if (!table) throw new Error('decodeToolCall needs a tokenizer or a token table');
  const grammar =
    options.source === undefined
      ? toolCallGrammar(spec)
      : new ToolCallGrammar(spec, options.source);
  throwIfAborted(signal);

  let state = grammar.start();
  let logits = options.firstLogits;
  const tokens: number[] = [];
  let steps = 0;
  let logProb = 0;
  const forced =
    options.forward && options.tokenizer ? forcedHeaderTokens(options.tokenizer, spec) : [];
  if (options.forward && forced.length > 1 && forced.length < maxTokens) {
    for (const id of forced) {
      const next = advanceToken(grammar, table, state, id);
      if (!next) throw new Error(`the forced header token ${id} breaks the grammar`);
      state = next;
    }
    if (options.scoreTokens) logProb += logSoftmaxAt(logits, forced[0] as number);
    tokens.push(...forced);
    logits = await options.forward(forced);
    steps++;
  }
  while (grammar.expectedSpecial(state) === undefined && tokens.length < maxTokens) {
    const choice = chooseToken(grammar, table, state, logits);
    if (!choice) break;
    if (options.scoreTokens) logProb += logSoftmaxAt(logits, choice.tokenId);
    tokens.push(choice.tokenId);
    state = choice.state;
    if (grammar.expectedSpecial(state) !== undefined) {
      // The JSON is finished: `</tool_call>` and `<|im_end|>` are forced, so the model is not
      // run again.
      break;
    }
    throwIfAborted(signal);
    logits = await next(choice.tokenId);
    steps++;
  }
  const bytes = tokens.flatMap((id) => Array.from(table.bytes(id) ?? []));
  let text = new TextDecoder().decode(Uint8Array.from(bytes));
  const complete = grammar.expectedSpecial(state) !== undefined;
  if (complete) {
    for (const special of ['</tool_call>', '<|im_end|>']) {
      const id = table.specialId(special);
      if (id === undefined) throw new Error(`the tokenizer has no ${special} token`);
      tokens.push(id);
      text += special;
    }
  }
  const args = grammar.argumentsOf(state);
  return {
    call: { name: spec.name, arguments: args },
    check: checkArguments(spec.parameters, args),
    text,
    tokens,
    steps,
    ...(options.scoreTokens && { logProb }),
    complete,
  };
}

/**
 * The same constraint as a transformers.js `LogitsProcessor`, for `model.generate()` with greedy
 * decoding: at each step it leaves only the token `decodeToolCall` would choose (then the closing
 * special tokens), so `generate` reproduces it. With sampling it would not be a faithful mask —
 * it keeps one token, not every allowed one (masking all 151k tokens per step is what the
 * decoder avoids).
 *
 * @example
 * await model.generate({ ...inputs, do_sample: false,
 *   logits_processor: [new ToolCallLogitsProcessor(spec, tokenTable(tokenizer), prompt.length)] });
 */
export class ToolCallLogitsProcessor extends LogitsProcessor {
  private readonly grammar: ToolCallGrammar;

  constructor(
    spec: ToolSpec,
    private readonly table: TokenTable,
    /** Tokens up to and including `<tool_call>`: everything after them is the call so far. */
    private readonly promptLength: number,
    /** The user's message, to hold `extract` arguments to spans of it (as `decodeToolCall`). */
    source?: string,
  ) {
    super();
    this.grammar = source === undefined ? toolCallGrammar(spec) : new ToolCallGrammar(spec, source);
  }

  /** The only token allowed after `generated`, or undefined when the call cannot go on. */
  allowedAfter(generated: readonly number[], logits: ArrayLike<number>): number | undefined {
    let state: ToolCallState | null = this.grammar.start();
    for (const id of generated) {
      state = state && advanceToken(this.grammar, this.table, state, id);
    }
    if (!state) return undefined;
    const special = this.grammar.expectedSpecial(state);
    if (special !== undefined) return this.table.specialId(special);
    if (this.grammar.isComplete(state)) return undefined;
    return chooseToken(this.grammar, this.table, state, logits)?.tokenId;
  }

  override _call(inputIds: bigint[][], logits: Tensor): Tensor {
    inputIds.forEach((ids, row) => {
      const scores = (logits as unknown as Tensor[])[row]?.data as Float32Array | undefined;
      if (!scores) return;
      const allowed = this.allowedAfter(ids.slice(this.promptLength).map(Number), scores);
      // A finished (or broken) call may only end.
      const keep = allowed ?? this.table.specialId('<|im_end|>');
      for (let token = 0; token < scores.length; token++) {
        if (token !== keep) scores[token] = Number.NEGATIVE_INFINITY;
      }
    });
    return logits;
  }
}
