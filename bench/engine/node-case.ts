import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { configureRuntime } from '../../src/engine/runtime';
import { CEILING_SHAPES, measureCeiling, type CeilingModel } from './ceiling';
import { runEngineCase, runNaiveCase, type BenchCase, type LabelledMessage } from './recipes';

/**
 * One Node measurement in its own process, so its peak memory is its own:
 *   tsx bench/engine/node-case.ts naive|engine case.json → one half of a BenchCase
 *   tsx bench/engine/node-case.ts --ceiling NAME DIR → measures DIR/NAME.onnx (see ceiling.ts)
 * Prints one JSON line: the result and the process's peak RSS in MB.
 */
interface CaseFile {
  modelRoot: string;
  benchCase: BenchCase;
  messages: LabelledMessage[];
}

const [first, second, third] = process.argv.slice(2);
let result: unknown;
if (first === '--ceiling' && second && second in CEILING_SHAPES && third) {
  const model = second as CeilingModel;
  const session = await ort.InferenceSession.create(`${third}/${model}.onnx`);
  result = await measureCeiling(
    session,
    model,
    (data, dims) => new ort.Tensor('float32', data, dims),
  );
} else if ((first === 'naive' || first === 'engine') && second) {
  const { modelRoot, benchCase, messages } = JSON.parse(readFileSync(second, 'utf8')) as CaseFile;
  configureRuntime({ modelRoot });
  result =
    first === 'naive'
      ? await runNaiveCase(benchCase, messages)
      : await runEngineCase(benchCase, messages);
} else {
  console.error('usage: node-case.ts naive|engine CASE.json | --ceiling MODEL DIR');
  process.exit(2);
}
const peakRssMB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ result, peakRssMB }));
