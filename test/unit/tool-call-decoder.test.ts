import { beforeAll, describe, expect, it } from 'vitest';
import { Tensor, type PreTrainedTokenizer } from '@huggingface/transformers';
import { AbortError } from '../../src/shared/errors';
import {
  decodeToolCall,
  forcedHeaderTokens,
  ToolCallLogitsProcessor,
  type DecodedToolCall,
} from '../../src/decoding/tool-call-decoder';
import { tokenTable, type TokenTable } from '../../src/decoding/token-bytes';
import { renderToolCall, TOOL_CALL_OPEN } from '../../src/catalog/chat-template';
import type { ToolArguments, ToolSpec } from '../../src/catalog/types';
import { IM_END_TOKEN_ID } from '../../src/engine/prompt';
import { demoTool } from '../support/demo-tools';
import { loadQwen3Tokenizer } from '../../scripts/lib/tokenizer';

/** Qwen3's output layer is padded past the tokenizer's last id; those logits must be ignored. */
const LOGITS_SIZE = 151_936;
const TOOL_CALL_CLOSE_ID = 151_658;

let tokenizer: PreTrainedTokenizer;
let table: TokenTable;
let tableBuildMs = 0;
beforeAll(async () => {
  tokenizer = await loadQwen3Tokenizer();
  const started = performance.now();
  table = tokenTable(tokenizer);
  tableBuildMs = performance.now() - started;
});

/** The text after `<tool_call>` up to the JSON's end, as training renders it. */
function callJson(name: string, args: ToolArguments): string {
  return renderToolCall({ name, arguments: args }).slice(
    TOOL_CALL_OPEN.length,
    -'</tool_call>'.length,
  );
}

const utf8 = new TextEncoder();

let byFirstByte: number[][] | undefined;
/** Token ids by their first byte, so the scripted model need not scan the whole vocabulary. */
function tokensStartingWith(): number[][] {
  if (!byFirstByte) {
    const index: number[][] = Array.from({ length: 256 }, () => []);
    for (let id = 0; id < table.size; id++) {
      const first = table.bytes(id)?.[0];
      if (first !== undefined) index[first]?.push(id);
    }
    byFirstByte = index;
  }
  return byFirstByte;
}

let singleLeadBytes: number[] | undefined;
/** Tokens that are one lead byte of a 3- or 4-byte character. */
function leadByteTokens(): number[] {
  singleLeadBytes ??= tokensStartingWith()
    .slice(0xe0)
    .flat()
    .filter((id) => table.bytes(id)?.length === 1);
  return singleLeadBytes;
}

/**
 * A scripted stand-in for the model: it wants `target` (scoring each token whose bytes continue
 * the target, longer ones higher) but an adversary scores other tokens higher still. The real
 * model is not needed here: what is tested is that the decoder only ever emits what the grammar
 * allows, whatever the logits say.
 */
class ScriptedModel {
  readonly fed: number[] = [];
  private readonly target: Uint8Array;

  constructor(
    target: string,
    private readonly adversary: (emitted: Uint8Array, logits: Float32Array) => void = () => {},
    private readonly preferLongest = true,
  ) {
    this.target = utf8.encode(target);
  }

  private emittedBytes(): Uint8Array {
    return Uint8Array.from(this.fed.flatMap((id) => Array.from(table.bytes(id) ?? [])));
  }

  logits(): Float32Array {
    const logits = new Float32Array(LOGITS_SIZE);
    const emitted = this.emittedBytes();
    const onTarget = emitted.every((byte, index) => this.target[index] === byte);
    if (onTarget) {
      const rest = this.target.subarray(emitted.length);
      for (const id of tokensStartingWith()[rest[0] ?? -1] ?? []) {
        const bytes = table.bytes(id);
        if (!bytes || bytes.length > rest.length) continue;
        if (bytes.every((byte, index) => rest[index] === byte)) {
          logits[id] = 10 + (this.preferLongest ? bytes.length : -bytes.length);
        }
      }
    }
    // Out-of-vocabulary padding ids get the highest logits of all.
    for (let id = table.size; id < LOGITS_SIZE; id++) logits[id] = 1000;
    this.adversary(emitted, logits);
    return logits;
  }

  readonly next = (tokenId: number): Promise<Float32Array> => {
    this.fed.push(tokenId);
    return Promise.resolve(this.logits());
  };
}

function idsOf(text: string): number[] {
  return tokenizer.encode(text, { add_special_tokens: false });
}

async function decodeWith(
  spec: ToolSpec,
  model: ScriptedModel,
  options: { maxTokens?: number; signal?: AbortSignal } = {},
): Promise<DecodedToolCall> {
  return decodeToolCall({
    tokenizer,
    spec,
    next: model.next,
    firstLogits: model.logits(),
    ...options,
  });
}

describe('token table (real Qwen3 tokenizer)', () => {
  it('holds every token as bytes, and added tokens by content', () => {
    expect(table.size).toBe(151_669);
    expect(table.special(IM_END_TOKEN_ID)).toBe('<|im_end|>');
    expect(table.specialId('</tool_call>')).toBe(TOOL_CALL_CLOSE_ID);
    expect(table.bytes(TOOL_CALL_CLOSE_ID)).toBeUndefined();
    expect(Array.from(table.bytes(idsOf('\n')[0] as number) ?? [])).toEqual([0x0a]);
    // A token that is one byte of a Chinese character.
    const leadByte = [...Array(table.size).keys()].find((id) => {
      const bytes = table.bytes(id);
      return bytes?.length === 1 && bytes[0] === 0xe4;
    });
    expect(leadByte).toBeDefined();
    // Decoding token by token through the table gives the tokenizer's own text.
    const text = '订单号 2024113012345，地址：上海市浦东新区世纪大道 100 号';
    const bytes = idsOf(text).flatMap((id) => Array.from(table.bytes(id) ?? []));
    expect(new TextDecoder().decode(Uint8Array.from(bytes))).toBe(text);
    console.info(`token table: ${table.size} tokens built in ${tableBuildMs.toFixed(0)} ms`);
  });
});

describe('decodeToolCall (scripted logits, real tokenizer)', () => {
  const orderCall = callJson('lookup_order', { order_id: '2024113012345' });

  it("follows a model that agrees with the grammar, in the tokenizer's own tokens", async () => {
    // This model puts each canonical token on top, one at a time: the training answer.
    const canonical = idsOf(orderCall);
    const model = new ScriptedModel(orderCall);
    const logitsFor = (position: number): Float32Array => {
      const logits = new Float32Array(LOGITS_SIZE);
      logits[canonical[position] ?? IM_END_TOKEN_ID] = 5;
      return logits;
    };
    const decoded = await decodeToolCall({
      tokenizer,
      spec: demoTool('lookup_order'),
      firstLogits: logitsFor(0),
      next: (id) => {
        model.fed.push(id);
        return Promise.resolve(logitsFor(model.fed.length));
      },
      scoreTokens: true,
    });
    expect(decoded.call).toEqual({
      name: 'lookup_order',
      arguments: { order_id: '2024113012345' },
    });
    expect(decoded.check).toEqual({
      arguments: { order_id: '2024113012345' },
      missing: [],
      problems: [],
    });
    expect(decoded.tokens).toEqual([...canonical, TOOL_CALL_CLOSE_ID, IM_END_TOKEN_ID]);
    expect(decoded.text).toBe(`${orderCall}</tool_call><|im_end|>`);
    expect(decoded.complete).toBe(true);
    // Scored on request: each chosen token had logit 5 against zeros (and padding at 1000).
    expect(decoded.logProb).toBeLessThan(0);
    expect(Number.isFinite(decoded.logProb)).toBe(true);
    // Every token but the last JSON token is fed back; the closing specials are forced.
    expect(decoded.steps).toBe(canonical.length - 1);
    expect(model.fed).toEqual(canonical.slice(0, -1));
    console.info(
      `lookup_order call: ${canonical.length} JSON tokens, ${decoded.steps} model steps, logProb ${decoded.logProb?.toFixed(2) ?? '-'}`,
    );
  });

  it('feeds the shared header in one run when given forward()', async () => {
    const forced = forcedHeaderTokens(tokenizer, demoTool('lookup_order'));
    // `\n{"name": "lookup_order", "arguments":` — the next token (` {"` or ` {}`) depends on
    // what follows, so it is left to the model.
    expect(tokenizer.decode(forced)).toBe('\n{"name": "lookup_order", "arguments":');
    expect(forced).toHaveLength(11);
    const changeForced = forcedHeaderTokens(tokenizer, demoTool('change_address'));
    expect(tokenizer.decode(changeForced)).toBe('\n{"name": "change_address", "arguments":');

    const plain = new ScriptedModel(orderCall);
    const stepwise = await decodeWith(demoTool('lookup_order'), plain);
    const jumping = new ScriptedModel(orderCall);
    const forwarded: number[][] = [];
    const decoded = await decodeToolCall({
      tokenizer,
      spec: demoTool('lookup_order'),
      next: jumping.next,
      forward: (ids) => {
        forwarded.push(ids);
        jumping.fed.push(...ids);
        return Promise.resolve(jumping.logits());
      },
      firstLogits: jumping.logits(),
    });
    expect(forwarded).toEqual([forced]);
    // Not requested, not computed (a log-softmax over the vocabulary per step).
    expect(decoded.logProb).toBeUndefined();
    expect(decoded.call).toEqual(stepwise.call);
    expect(decoded.text).toBe(stepwise.text);
    expect(decoded.steps).toBe(stepwise.steps - forced.length + 1);
    console.info(
      `lookup_order call: ${stepwise.steps} model steps one token at a time, ${decoded.steps} with forward()`,
    );
  });

  it('never emits forbidden tokens: letters, early closes and specials inside a digits-only id', async () => {
    const letters = idsOf('abcdefghijklmnopqrstuvwxyz').concat(
      idsOf('A'),
      idsOf('订单'),
      idsOf('x'),
    );
    const early = [
      TOOL_CALL_CLOSE_ID,
      IM_END_TOKEN_ID,
      ...idsOf('"'),
      ...idsOf('"}}\n'),
      ...idsOf('}'),
    ];
    const model = new ScriptedModel(orderCall, (emitted, logits) => {
      for (const id of [...letters, ...early]) logits[id] = 100;
      // Lead bytes of Chinese characters rank highest while the id is being written.
      if (new TextDecoder().decode(emitted).includes('"order_id": "')) {
        for (const id of leadByteTokens()) logits[id] = 200;
      }
    });
    const decoded = await decodeWith(demoTool('lookup_order'), model);
    expect(decoded.text).toBe(`${orderCall}</tool_call><|im_end|>`);
    expect(decoded.call.arguments).toEqual({ order_id: '2024113012345' });
    expect(decoded.check.missing).toEqual([]);
    expect(decoded.tokens.every((id) => id < table.size)).toBe(true);
  });

  it('copies an extracted argument from the message even when the model prefers another value', async () => {
    // The model "remembers" a different order number; the message has the user's.
    const wrong = callJson('lookup_order', { order_id: '2024112098765' });
    const model = new ScriptedModel(wrong);
    const decoded = await decodeToolCall({
      tokenizer,
      spec: demoTool('lookup_order'),
      next: model.next,
      firstLogits: model.logits(),
      source: '帮我查一下订单 2024113012345',
    });
    expect(decoded.call.arguments).toEqual({ order_id: '2024113012345' });
    // Without the message, the grammar only knows the pattern: the remembered number passes.
    const unbound = new ScriptedModel(wrong);
    const free = await decodeWith(demoTool('lookup_order'), unbound);
    expect(free.call.arguments).toEqual({ order_id: '2024112098765' });
  });

  it('reports a required key the model leaves out instead of inventing it', async () => {
    const empty = callJson('lookup_order', {});
    expect(empty).toBe('\n{"name": "lookup_order", "arguments": {}}\n');
    // The model wants to close the call right after the header.
    const model = new ScriptedModel(empty, (_emitted, logits) => {
      logits[TOOL_CALL_CLOSE_ID] = 300;
    });
    const decoded = await decodeWith(demoTool('lookup_order'), model);
    expect(decoded.text).toBe(`${empty}</tool_call><|im_end|>`);
    expect(decoded.check).toEqual({ arguments: {}, missing: ['order_id'], problems: [] });
  });

  it('keeps an enum value exact when the model drifts', async () => {
    const call = callJson('request_refund', { order_id: '2024113012345', reason: '尺码不合适' });
    const drift = idsOf('尺码太大了').concat(idsOf('太大'), idsOf('偏小'));
    const model = new ScriptedModel(call, (emitted, logits) => {
      if (new TextDecoder().decode(emitted).endsWith('"reason": "尺码')) {
        for (const id of drift) logits[id] = 100;
      }
    });
    const decoded = await decodeWith(demoTool('request_refund'), model);
    expect(decoded.call.arguments).toEqual({ order_id: '2024113012345', reason: '尺码不合适' });
  });

  it('writes a Chinese address through tokens that end inside characters', async () => {
    const address = '上海市浦东新区世纪大道 100 号';
    const call = callJson('change_address', { order_id: '2024113012345', address });
    // Single-byte tokens outrank whole characters: every Chinese character is split.
    const model = new ScriptedModel(call, () => {}, false);
    const decoded = await decodeWith(demoTool('change_address'), model, { maxTokens: 200 });
    expect(decoded.call.arguments).toEqual({ order_id: '2024113012345', address });
    const partial = decoded.tokens.filter((id) => table.text(id).includes('\uFFFD'));
    expect(partial.length).toBe(3 * 12); // 12 Chinese characters, 3 bytes each
    expect(decoded.text).toBe(`${call}</tool_call><|im_end|>`);
  });

  it('ends free text at maxLength', async () => {
    const spec: ToolSpec = {
      name: 'leave_note',
      description: { zh: '留言', en: 'Leave a note' },
      parameters: {
        type: 'object',
        properties: { note: { type: 'string', maxLength: 5 } },
        required: ['note'],
      },
      changesData: false,
      requiresConfirmation: false,
      timeoutMs: 1000,
    };
    // The model would go on forever, and never close the string.
    const call = `\n{"name": "leave_note", "arguments": {"note": "${'很'.repeat(40)}`;
    const quote = idsOf('"');
    const model = new ScriptedModel(call, (_emitted, logits) => {
      for (const id of quote) logits[id] = -100;
    });
    const decoded = await decodeWith(spec, model);
    expect(decoded.call.arguments).toEqual({ note: '很很很很很' });
    expect(decoded.complete).toBe(true);
  });

  it('closes out at maxTokens with what is finished, the unfinished key missing', async () => {
    const address = '上海市浦东新区世纪大道 100 号';
    const call = callJson('change_address', { order_id: '2024113012345', address });
    const canonical = idsOf(call);
    const inAddress = canonical.length - 4; // cut inside the address
    const decoded = await decodeWith(demoTool('change_address'), new ScriptedModel(call), {
      maxTokens: inAddress,
    });
    expect(decoded.tokens).toHaveLength(inAddress);
    expect(decoded.complete).toBe(false);
    expect(decoded.check).toEqual({
      arguments: { order_id: '2024113012345' },
      missing: ['address'],
      problems: [],
    });
    const inId = await decodeWith(demoTool('lookup_order'), new ScriptedModel(orderCall), {
      maxTokens: 20,
    });
    expect(inId.check).toEqual({ arguments: {}, missing: ['order_id'], problems: [] });
    expect(inId.text).toBe(
      new TextDecoder().decode(utf8.encode(orderCall).subarray(0, inId.text.length)),
    );
  });

  it('stops between steps when aborted', async () => {
    const controller = new AbortController();
    const model = new ScriptedModel(orderCall);
    const next = (id: number): Promise<Float32Array> => {
      if (model.fed.length === 2) controller.abort();
      return model.next(id);
    };
    const decoding = decodeToolCall({
      tokenizer,
      spec: demoTool('lookup_order'),
      next,
      firstLogits: model.logits(),
      signal: controller.signal,
    });
    await expect(decoding).rejects.toBeInstanceOf(AbortError);
    expect(model.fed).toHaveLength(3);
    const aborted = new AbortController();
    aborted.abort();
    await expect(
      decodeWith(demoTool('lookup_order'), new ScriptedModel(orderCall), {
        signal: aborted.signal,
      }),
    ).rejects.toMatchObject({ code: 'aborted' });
  });

  it('falls back to the whole vocabulary when none of the top 64 fits', async () => {
    // 200 forbidden tokens outrank every allowed one at every step.
    const forbidden = idsOf(
      'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 订单号查询物流退款发票',
    );
    const many = [
      ...new Set([...forbidden, ...Array.from({ length: 200 }, (_, i) => 100_000 + i)]),
    ];
    const model = new ScriptedModel(orderCall, (emitted, logits) => {
      if (emitted.length > 20) for (const id of many) logits[id] = 500;
    });
    const decoded = await decodeWith(demoTool('lookup_order'), model);
    expect(decoded.call.arguments).toEqual({ order_id: '2024113012345' });
  });
});

describe('ToolCallLogitsProcessor', () => {
  it('leaves exactly the token the decoder chooses, then the closing specials', async () => {
    const call = callJson('request_refund', { order_id: '2024113012345', reason: '质量问题' });
    const model = new ScriptedModel(call, (_emitted, logits) => {
      logits[TOOL_CALL_CLOSE_ID] = 300;
    });
    const spec = demoTool('request_refund');
    const decoded = await decodeWith(spec, model);
    const prompt = [151644, 77091, 198, 151657]; // any prompt ending in <tool_call>
    const processor = new ToolCallLogitsProcessor(spec, table, prompt.length);
    const replay = new ScriptedModel(call, (_emitted, logits) => {
      logits[TOOL_CALL_CLOSE_ID] = 300;
    });
    for (let position = 0; position < decoded.tokens.length; position++) {
      const ids = [...prompt, ...decoded.tokens.slice(0, position)].map(BigInt);
      const logits = new Tensor('float32', replay.logits(), [1, LOGITS_SIZE]);
      processor._call([ids], logits);
      const scores = logits.data as Float32Array;
      const kept: number[] = [];
      scores.forEach((score, id) => {
        if (score > Number.NEGATIVE_INFINITY) kept.push(id);
      });
      expect(kept).toEqual([decoded.tokens[position]]);
      replay.fed.push(decoded.tokens[position] as number);
    }
  });
});
