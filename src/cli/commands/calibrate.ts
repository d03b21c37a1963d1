import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  applyCalibration,
  calibrationDataProblem,
  fitCalibration,
  fitProblem,
  type FitReport,
} from '../../evaluation/calibration-fit';
import type { Calibration, Classification } from '../../engine/classification';
import { computeMetrics, type Metrics } from '../../evaluation/metrics';
import type { ModelCard } from '../../engine/model-folder';
import { FenliuError } from '../../shared/errors';
import type { CommandContext } from '../context';
import { checkRows, loadClassifier, openModelFolder, readDataFile } from '../model';
import {
  CliError,
  fractionFlag,
  integerFlag,
  parseFlags,
  requiredFlag,
  UsageError,
} from '../options';
import { ProgressBar } from '../progress';
import { fixed, formatTable, percent } from '../table';
import { visible } from '../terminal';

/** `fenliu calibrate`: fits temperature and thresholds on a validation split. */
export async function calibrateCommand(args: string[], context: CommandContext): Promise<number> {
  const { values } = parseFlags(
    args,
    {
      data: { type: 'string' },
      model: { type: 'string' },
      dtype: { type: 'string' },
      write: { type: 'boolean', default: false },
      out: { type: 'string' },
      'target-precision': { type: 'string' },
      'prior-rows': { type: 'string' },
      'batch-size': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    false,
  );
  const dataFile = requiredFlag(values.data, 'data');
  if (values.write && values.out !== undefined) {
    throw new UsageError('give either --write (DIR/calibration.json) or --out FILE, not both');
  }
  const targetPrecision = fractionFlag(values['target-precision'], 'target-precision', 0.95);
  const priorRows = integerFlag(values['prior-rows'], 'prior-rows', 20);
  const batchSize = integerFlag(values['batch-size'], 'batch-size', 8);
  const examples = readDataFile(dataFile, context.cwd);
  const { folder, card } = await openModelFolder(values.model, context.cwd);
  const expected = checkRows(examples, card);
  // A split that cannot support a fit is refused before the model runs.
  const tooFew = calibrationDataProblem(expected, card);
  if (tooFew !== null) throw new FenliuError('dataset-invalid', `${dataFile}: ${tooFew}`);

  // The fit needs the raw model: temperature 1 and no thresholds.
  const classifier = await loadClassifier(folder, {
    dtype: values.dtype,
    calibration: null,
    signal: context.signal,
  });
  let classifications: Classification[];
  try {
    const bar = new ProgressBar(context.stderr, 'classifying');
    classifications = await classifier.classifyBatch(
      examples.map((example) => example.text),
      {
        signal: context.signal,
        batchSize,
        // Calibration looks at intents only; decoding tool calls would only cost time.
        toolCalls: false,
        onProgress: (done, total) => {
          bar.update(done, total);
        },
      },
    );
    bar.finish();
  } finally {
    await classifier.dispose();
  }

  const samples = classifications.map((classification, i) => ({
    expected: expected[i] ?? '',
    scores: classification.scores,
  }));
  const fit = fitCalibration(samples, card, { targetPrecision, priorRows, dataFile });
  // NOTE: a fit on a boundary (temperature at its search bound, a threshold at 1.0) would route
  // every turn one way; refused here, before anything is printed or written.
  const degenerate = fitProblem(fit, card);
  if (degenerate !== null) {
    throw new FenliuError('dataset-invalid', `${dataFile}: nothing written: ${degenerate}`);
  }
  const { calibration, report } = fit;
  const fallback = card.intents.find((intent) => intent.id === card.fallbackIntent);
  if (!fallback) throw new Error('model card without its fallback intent');
  const before = computeMetrics(
    classifications.map((classification, i) => ({ expected: expected[i] ?? '', classification })),
    card,
  );
  const after = computeMetrics(
    samples.map((sample, i) => {
      const { scores, decision } = applyCalibration(sample.scores, fallback, calibration);
      const top = scores[0];
      if (!top) throw new Error('a classification without scores');
      return {
        expected: sample.expected,
        classification: {
          intentId: decision.intentId,
          route: decision.route,
          top,
          confidence: top.probability,
          latencyMs: classifications[i]?.latencyMs ?? 0,
        },
      };
    }),
    card,
  );

  const target = values.write ? join(folder.path, 'calibration.json') : values.out;
  if (target !== undefined) {
    try {
      writeFileSync(resolve(context.cwd, target), JSON.stringify(calibration, null, 2) + '\n');
    } catch (error) {
      throw new CliError(`cannot write ${target}`, { cause: error });
    }
  }
  if (values.json) {
    context.out(JSON.stringify(calibration, null, 2));
  } else {
    context.out(summary(calibration, report, card, { before, after }, dataFile, folder.modelId));
  }
  context.err(
    target === undefined
      ? `not written: add --write to save ${join(folder.path, 'calibration.json')} (or --out FILE)`
      : `wrote ${target}`,
  );
  return 0;
}

function summary(
  calibration: Calibration,
  report: FitReport,
  card: ModelCard,
  metrics: { before: Metrics; after: Metrics },
  dataFile: string,
  modelId: string,
): string {
  const labelOf = new Map(card.intents.map((intent) => [intent.id, intent.label]));
  const rows = [
    [
      '(default)',
      '',
      '',
      fixed(calibration.defaultThresholds.outOfScope),
      fixed(calibration.defaultThresholds.escalate),
    ],
    ...Object.entries(calibration.thresholds).map(([intentId, limits]) => [
      intentId,
      labelOf.get(intentId) ?? '',
      String(report.perIntent[intentId]?.rows ?? 0),
      fixed(limits.outOfScope),
      fixed(limits.escalate),
    ]),
  ];
  const { before, after } = metrics;
  const routes = (m: Metrics) =>
    `intent ${m.routes.intent}, out_of_scope ${m.routes.out_of_scope}, escalate ${m.routes.escalate}`;
  return [
    `calibrated ${visible(modelId)} on ${visible(dataFile)}: ${report.rows} rows, ${report.outOfScopeRows} out of scope`,
    `temperature ${report.temperature.toFixed(3)} · NLL ${fixed(report.nll.before)} → ${fixed(report.nll.after)} · ECE ${fixed(report.ece.before)} → ${fixed(report.ece.after)}`,
    `out-of-scope rule: ${report.outOfScopeRule === 'max-routed-correct' ? 'most rows routed correctly' : 'keep 99% of right answers in scope (no out-of-scope rows)'}; ` +
      `escalation: accepted precision ≥ ${report.targetPrecision} (${report.targetReached ? 'reached' : 'not reached'}); prior ${report.priorRows} rows`,
    '',
    formatTable(['intent', 'label', 'rows', 'out-of-scope <', 'escalate <'], rows, {
      right: ['rows', 'out-of-scope <', 'escalate <'],
    }),
    '',
    `on this split, before → after:`,
    `  routes             ${routes(before)} → ${routes(after)}`,
    `  accepted precision ${percent(before.accepted.precision)} → ${percent(after.accepted.precision)}`,
    `  out of scope       precision ${fixed(before.outOfScope.precision)} → ${fixed(after.outOfScope.precision)}, recall ${fixed(before.outOfScope.recall)} → ${fixed(after.outOfScope.recall)}`,
  ].join('\n');
}
