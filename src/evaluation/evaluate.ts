/**
 * Runs a classifier over labelled rows and scores it (see `metrics.ts`): the core of `fenliu eval`
 * and `fenliu calibrate`, usable from any Node script or test.
 */
import { rescore } from './calibration-fit';
import type { Classification } from '../engine/classification';
import type { LabelledExample } from '../dataset/dataset';
import { DataValidationError } from '../shared/errors';
import {
  calibrationReport,
  computeMetrics,
  DEFAULT_BINS,
  toolCallMetrics,
  type CalibrationReport,
  type IntentRef,
  type Metrics,
  type Prediction,
  type ToolCallMetrics,
} from './metrics';
import type { ToolCall } from '../catalog/types';
import type { ToolSchemas } from './tool-arguments';

/** What evaluation needs of an `IntentClassifier`. */
export interface BatchClassifier {
  readonly info: {
    intents: readonly IntentRef[];
    fallbackIntent: string;
    /** The tools' schemas, whose parameters the per-argument scoring goes over. */
    tools?: ToolSchemas;
  };
  classifyBatch(
    texts: string[],
    options?: {
      signal?: AbortSignal;
      batchSize?: number;
      onProgress?: (done: number, total: number) => void;
      toolCalls?: boolean;
    },
  ): Promise<Classification[]>;
}

/** One scored row, traceable to its file and line. */
export interface EvaluatedRow extends Prediction {
  text: string;
  file: string;
  line: number;
  /** The call the row's answer makes, when labelled with one. */
  expectedToolCall?: ToolCall;
  classification: Classification;
}

export interface Evaluation {
  metrics: Metrics;
  /**
   * Calibration of the raw model (temperature 1, recomputed from the label log-probabilities):
   * with a calibration loaded, `metrics.calibration` is the calibrated one and this the "before".
   */
  uncalibrated: CalibrationReport;
  /**
   * Argument exact-match, per-argument outcomes and decoding cost, when rows are labelled with
   * tool calls.
   */
  toolCalls: ToolCallMetrics;
  rows: EvaluatedRow[];
}

/**
 * The intent id each row is labelled with. A label may be an intent's label (`查询订单`) or its id
 * (`order_status`); any other label is reported as `file:line` in a `DataValidationError`.
 */
export function expectedIntents(
  examples: readonly LabelledExample[],
  intents: readonly IntentRef[],
): string[] {
  const byName = new Map<string, string>();
  for (const intent of intents) byName.set(intent.id, intent.id);
  // Labels win over ids should an id happen to equal another intent's label.
  for (const intent of intents) byName.set(intent.label, intent.id);
  const known = intents.map((intent) => intent.label).join(', ');
  const issues = examples.flatMap((example) =>
    byName.has(example.label)
      ? []
      : [
          {
            file: example.file,
            line: example.line,
            reason: `label "${example.label}" is not one of the model's intents (${known})`,
          },
        ],
  );
  if (issues.length > 0) throw new DataValidationError('dataset-invalid', issues);
  return examples.map((example) => byName.get(example.label) ?? example.label);
}

/**
 * Classifies every example in one batch call and scores the answers.
 *
 * @example
 * const examples = parseDataset(readFileSync(file, 'utf8'), file);
 * const { metrics } = await evaluate(classifier, examples);
 * metrics.accuracy; // 0.92
 */
export async function evaluate(
  classifier: BatchClassifier,
  examples: readonly (LabelledExample & { toolCall?: ToolCall })[],
  options: {
    signal?: AbortSignal;
    /** Messages per model call (see `IntentClassifier.classifyBatch`). */
    batchSize?: number;
    /** Decode tool calls too (default true); off for intent-only runs such as calibration. */
    toolCalls?: boolean;
    onProgress?: (done: number, total: number) => void;
    bins?: number;
  } = {},
): Promise<Evaluation> {
  const expected = expectedIntents(examples, classifier.info.intents);
  const classifications = await classifier.classifyBatch(
    examples.map((example) => example.text),
    {
      signal: options.signal,
      batchSize: options.batchSize,
      onProgress: options.onProgress,
      toolCalls: options.toolCalls ?? true,
    },
  );
  const rows = examples.map((example, i): EvaluatedRow => {
    const classification = classifications[i];
    if (!classification) throw new Error(`classifyBatch returned no result for row ${i}`);
    return {
      text: example.text,
      file: example.file,
      line: example.line,
      expected: expected[i] ?? example.label,
      ...(example.toolCall && { expectedToolCall: example.toolCall }),
      classification,
    };
  });
  const bins = options.bins ?? DEFAULT_BINS;
  const raw = rows.map((row) => rescore(row.classification.scores, 1)[0]);
  return {
    metrics: computeMetrics(rows, classifier.info, bins),
    uncalibrated: calibrationReport(
      raw.map((top) => top?.probability ?? 0),
      raw.map((top, i) => top?.intentId === rows[i]?.expected),
      bins,
    ),
    toolCalls: toolCallMetrics(rows, classifier.info.tools),
    rows,
  };
}
