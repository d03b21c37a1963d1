import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_MODEL_ID, PUBLIC_MODELS } from '../../scripts/lib/paths';
import { IntentClassifier } from '../../src/engine/classifier';
import type { ModelCard } from '../../src/engine/model-folder';
import { configureRuntime } from '../../src/engine/runtime';
import { ModelLoadError } from '../../src/shared/errors';

/**
 * Issue 18: a wrong model folder must not load as ready. Copies of the committed demo folder,
 * each broken in a way that still loads (a tokenizer without its merges, a card listing half the
 * labels, corrupt weights), fail with the canaries' typed error (src/engine/canary.ts); the
 * untouched copy loads verified, and a card without canaries loads as before, unverified.
 */

const scratch = mkdtempSync(join(tmpdir(), 'fenliu-canary-'));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** Copies the demo folder to `scratch/<id>`, lets `edit` break it, and points the runtime there. */
function copyDemo(id: string, edit: (dir: string) => void = () => undefined): string {
  const dir = join(scratch, id);
  cpSync(join(PUBLIC_MODELS, DEMO_MODEL_ID), dir, { recursive: true, dereference: true });
  edit(dir);
  configureRuntime({ modelRoot: scratch });
  return id;
}

function editCard(dir: string, edit: (card: ModelCard) => void): void {
  const path = join(dir, 'fenliu.json');
  const card = JSON.parse(readFileSync(path, 'utf8')) as ModelCard;
  edit(card);
  writeFileSync(path, JSON.stringify(card, null, 2));
}

async function loadError(modelId: string, dtype: 'int8' | 'q4' = 'int8'): Promise<ModelLoadError> {
  try {
    const classifier = await IntentClassifier.load({ modelId, device: 'cpu', dtype });
    await classifier.dispose();
  } catch (error) {
    if (error instanceof ModelLoadError) return error;
    throw error;
  }
  throw new Error(`${modelId} loaded`);
}

/**
 * Where each initializer's raw bytes lie in an ONNX file: ModelProto field 7 (graph) → field 5
 * (initializer, a TensorProto) → field 8 (name) and field 9 (raw_data). Bytes changed inside
 * raw_data leave the protobuf framing intact, so the file still loads.
 */
function initializerData(bytes: Uint8Array): Map<string, { start: number; end: number }> {
  function* lengthDelimited(start: number, end: number) {
    let offset = start;
    const varint = (): number => {
      let value = 0;
      for (let scale = 1; ; scale *= 128) {
        const byte = bytes[offset++] ?? 0;
        value += (byte & 0x7f) * scale;
        if ((byte & 0x80) === 0) return value;
      }
    };
    while (offset < end) {
      const key = varint();
      const wireType = key % 8;
      if (wireType === 0) varint();
      else if (wireType === 1) offset += 8;
      else if (wireType === 5) offset += 4;
      else if (wireType === 2) {
        const length = varint();
        yield { field: Math.floor(key / 8), start: offset, end: offset + length };
        offset += length;
      } else throw new Error(`wire type ${wireType} at ${offset}`);
    }
  }
  const found = new Map<string, { start: number; end: number }>();
  for (const graph of lengthDelimited(0, bytes.length)) {
    if (graph.field !== 7) continue;
    for (const tensor of lengthDelimited(graph.start, graph.end)) {
      if (tensor.field !== 5) continue;
      let name = '';
      let data: { start: number; end: number } | undefined;
      for (const field of lengthDelimited(tensor.start, tensor.end)) {
        if (field.field === 8)
          name = new TextDecoder().decode(bytes.subarray(field.start, field.end));
        if (field.field === 9) data = { start: field.start, end: field.end };
      }
      if (data) found.set(name, data);
    }
  }
  return found;
}

describe('a model folder proves itself at load (canaries)', () => {
  it('loads the untouched demo verified, at both shipped dtypes', async () => {
    const id = copyDemo('untouched');
    for (const dtype of ['int8', 'q4'] as const) {
      const started = performance.now();
      const classifier = await IntentClassifier.load({ modelId: id, device: 'cpu', dtype });
      const ms = performance.now() - started;
      console.log(`${dtype}: ${classifier.info.verification} (load ${ms.toFixed(0)} ms)`);
      expect(classifier.info.verified).toBe(true);
      expect(classifier.info.verification).toMatch(
        new RegExp(
          `^6 canaries match the ${dtype} reference \\(onnxruntime-node .*\\) within 0\\.002`,
        ),
      );
      await classifier.dispose();
    }
  });

  it('fails a tokenizer.json stripped of its merges: model-tokenizer-mismatch', async () => {
    const id = copyDemo('no-merges', (dir) => {
      const path = join(dir, 'tokenizer.json');
      const tokenizer = JSON.parse(readFileSync(path, 'utf8')) as { model: { merges: unknown[] } };
      expect(tokenizer.model.merges.length).toBeGreaterThan(100_000);
      tokenizer.model.merges = [];
      writeFileSync(path, JSON.stringify(tokenizer));
    });
    const error = await loadError(id);
    expect(error.code).toBe('model-tokenizer-mismatch');
    expect(error.message).toMatch(
      /canary 1 \("订单2024120566778现在到哪一步了"\) encodes to \d+ token ids but the export recorded 31.*the message itself encodes differently: tokenizer\.json.*Fix: /,
    );
  });

  it("fails a card whose system message is not the export's: the template around the message", async () => {
    const id = copyDemo('other-system', (dir) => {
      editCard(dir, (card) => {
        card.system = 'You are a helpful assistant.';
      });
    });
    const error = await loadError(id);
    expect(error.code).toBe('model-tokenizer-mismatch');
    expect(error.message).toMatch(/the message encodes as recorded but the prompt around it/);
  });

  it('fails a card listing 6 of its 12 trained labels: model-labels-mismatch', async () => {
    const id = copyDemo('six-labels', (dir) => {
      editCard(dir, (card) => {
        card.intents = card.intents.slice(6);
        card.labels = card.intents.map((intent) => intent.label);
      });
    });
    const error = await loadError(id);
    expect(error.code).toBe('model-labels-mismatch');
    expect(error.message).toMatch(
      /lists 6 labels where the model was exported with 12: missing 查询订单, 物流查询, 取消服务, 修改信息, 退款退货, 支付问题; not trained: \(none\).*Fix: /,
    );
  });

  it('fails a card with the right labels in another order', async () => {
    const id = copyDemo('swapped-labels', (dir) => {
      editCard(dir, (card) => {
        const [first, second, ...rest] = card.intents;
        if (!first || !second) throw new Error('demo card has intents');
        card.intents = [second, first, ...rest];
        card.labels = card.intents.map((intent) => intent.label);
      });
    });
    const error = await loadError(id);
    expect(error.code).toBe('model-labels-mismatch');
    expect(error.message).toMatch(/the same 12 labels in another order/);
  });

  it('fails int8 weights with flipped bytes (the file still loads): model-output-mismatch', async () => {
    const id = copyDemo('flipped-weights', (dir) => {
      const path = join(dir, 'onnx', 'model_int8.onnx');
      const bytes = readFileSync(path);
      const decoder = [...initializerData(bytes)].filter(
        ([name]) => name.startsWith('model.layers.') && name.endsWith('.int8'),
      );
      expect(decoder.length).toBe(14); // 7 matrices in each of 2 layers
      // Every 64th byte of every decoder matrix (1536 of 98 304): each flip negates a weight.
      for (const [, { start, end }] of decoder) {
        for (let at = start; at < end; at += 64) bytes[at] = (bytes[at] ?? 0) ^ 0xff;
      }
      writeFileSync(path, bytes);
    });
    const error = await loadError(id);
    expect(error.code).toBe('model-output-mismatch');
    expect(error.message).toMatch(
      /flipped-weights \(int8 on cpu\) does not compute what its export recorded: canary \d \(".+"\) gives \S+ [\d.e-]+ where the int8 reference \(onnxruntime-node .*\) has [\d.e-]+, a difference of [\d.e-]+ \(tolerance 0\.002\)\. The weights are corrupt.*Fix: /,
    );
    // The q4 file is intact: loading it still works, verified.
    const q4 = await IntentClassifier.load({ modelId: id, device: 'cpu', dtype: 'q4' });
    expect(q4.info.verified).toBe(true);
    await q4.dispose();
  });

  it('loads a card without canaries (older exports) as before, saying it is not verified', async () => {
    const id = copyDemo('no-canaries', (dir) => {
      editCard(dir, (card) => {
        delete card.canaries;
      });
    });
    const classifier = await IntentClassifier.load({ modelId: id, device: 'cpu', dtype: 'int8' });
    expect(classifier.info.verified).toBe(false);
    expect(classifier.info.verification).toMatch(/has no canaries .*Fix: /);
    expect((await classifier.classify('取消我的订阅')).label).toBe('取消服务');
    await classifier.dispose();
  });

  it('checks the labels and tokenizer but not the outputs of a dtype without a reference', async () => {
    const id = copyDemo('no-q4-reference', (dir) => {
      editCard(dir, (card) => {
        if (card.canaries) delete card.canaries.references.q4;
      });
    });
    const classifier = await IntentClassifier.load({ modelId: id, device: 'cpu', dtype: 'q4' });
    expect(classifier.info.verified).toBe(false);
    expect(classifier.info.verification).toMatch(/no q4 reference \(only int8\)/);
    await classifier.dispose();
  });
});
