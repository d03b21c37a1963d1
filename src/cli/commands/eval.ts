import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { confusionMatrixSvg, reliabilityDiagramSvg } from '../../evaluation/charts';
import { evaluate, type Evaluation } from '../../evaluation/evaluate';
import { sameToolCall, type ToolCallMetrics } from '../../evaluation/metrics';
import {
  argumentMistakes,
  type ArgumentCounts,
  type ArgumentMetrics,
} from '../../evaluation/tool-arguments';
import type { ModelCard } from '../../engine/model-folder';
import type { CommandContext } from '../context';
import {
  checkRows,
  loadClassifier,
  openModelFolder,
  readCalibrationFlag,
  readCalibrationIfPresent,
  readDataFile,
} from '../model';
import { CliError, integerFlag, parseFlags, requiredFlag } from '../options';
import { ProgressBar } from '../progress';
import { fixed, formatTable, percent } from '../table';
import { visible } from '../terminal';

/** `fenliu eval`: scores a model on a labelled file; prints a table, writes JSON and two SVGs. */
export async function evalCommand(args: string[], context: CommandContext): Promise<number> {
  const { values } = parseFlags(
    args,
    {
      data: { type: 'string' },
      model: { type: 'string' },
      dtype: { type: 'string' },
      calibration: { type: 'string' },
      out: { type: 'string', default: 'eval-out' },
      'batch-size': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    false,
  );
  const dataFile = requiredFlag(values.data, 'data');
  const outDir = values.out;
  const batchSize = integerFlag(values['batch-size'], 'batch-size', 1);
  const flagged = readCalibrationFlag(values.calibration, context.cwd);
  const examples = readDataFile(dataFile, context.cwd);
  const { folder, card } = await openModelFolder(values.model, context.cwd);
  // Labels and tool calls are checked against the card before the model loads: a typo fails in
  // milliseconds, and a call the model cannot make is reported, not scored.
  checkRows(examples, card);
  const calibration = flagged === undefined ? readCalibrationIfPresent(folder) : flagged;

  const classifier = await loadClassifier(folder, {
    dtype: values.dtype,
    calibration,
    signal: context.signal,
  });
  let evaluation: Evaluation;
  try {
    // NOTE: the first call pays for session warm-up; keep it out of the latency figures.
    await classifier.classify(examples[0]?.text ?? '你好', { signal: context.signal });
    const bar = new ProgressBar(context.stderr, 'classifying');
    evaluation = await evaluate(classifier, examples, {
      signal: context.signal,
      batchSize,
      onProgress: (done, total) => {
        bar.update(done, total);
      },
    });
    bar.finish();
  } finally {
    await classifier.dispose();
  }
  const { metrics } = evaluation;
  const report = {
    format: 1,
    model: {
      folder: folder.path,
      id: folder.modelId,
      dtype: classifier.info.dtype,
      device: classifier.info.device,
      calibrated: calibration !== null,
      temperature: calibration?.temperature ?? 1,
    },
    data: { file: dataFile, rows: examples.length },
    batchSize,
    accuracy: metrics.accuracy,
    topAccuracy: metrics.topAccuracy,
    macroF1: metrics.macroF1,
    perIntent: metrics.perIntent,
    confusion: metrics.confusion,
    outOfScope: { intentId: card.fallbackIntent, ...metrics.outOfScope },
    routes: metrics.routes,
    accepted: metrics.accepted,
    ece: metrics.calibration.ece,
    eceUncalibrated: evaluation.uncalibrated.ece,
    reliability: metrics.calibration.bins,
    latencyMs: metrics.latencyMs,
    toolCalls: evaluation.toolCalls,
    toolCallMistakes: evaluation.rows
      .filter(
        (row) =>
          row.expectedToolCall !== undefined &&
          !sameToolCall(row.expectedToolCall, row.classification.toolCall),
      )
      .map((row) => ({
        file: row.file,
        line: row.line,
        text: row.text,
        expected: row.expectedToolCall,
        proposed: row.classification.toolCall ?? null,
      })),
    // The values that would reach a confirmation card wrongly: wrong or never stated.
    argumentMistakes: argumentMistakes(evaluation.rows, classifier.info.tools).map(
      ({ row, tool, argument, kind, expected, decoded }) => ({
        file: row.file,
        line: row.line,
        text: row.text,
        tool,
        argument,
        kind,
        expected,
        decoded,
      }),
    ),
    mistakes: evaluation.rows
      .filter((row) => row.classification.intentId !== row.expected)
      .map((row) => ({
        file: row.file,
        line: row.line,
        text: row.text,
        expected: row.expected,
        predicted: row.classification.intentId,
        route: row.classification.route,
        confidence: row.classification.confidence,
        reason: row.classification.reason,
      })),
  };

  const title = `${folder.modelId} · ${basename(dataFile)}`;
  const files = {
    json: join(outDir, 'eval.json'),
    confusion: join(outDir, 'confusion.svg'),
    reliability: join(outDir, 'reliability.svg'),
  };
  const at = (path: string) => resolve(context.cwd, path);
  try {
    mkdirSync(at(outDir), { recursive: true });
    writeFileSync(at(files.json), JSON.stringify(report, null, 2) + '\n');
    writeFileSync(at(files.confusion), confusionMatrixSvg(metrics.confusion, { title }));
    writeFileSync(at(files.reliability), reliabilityDiagramSvg(metrics.calibration, { title }));
  } catch (error) {
    throw new CliError(`--out ${outDir}: cannot write the results`, { cause: error });
  }

  if (values.json) {
    context.out(JSON.stringify(report, null, 2));
  } else {
    context.out(summary(evaluation, card, report.model, batchSize));
  }
  context.err(`wrote ${files.json}, ${files.confusion}, ${files.reliability}`);
  return 0;
}

function summary(
  evaluation: Evaluation,
  card: ModelCard,
  model: { id: string; dtype: string; calibrated: boolean },
  batchSize: number,
): string {
  const { metrics, uncalibrated } = evaluation;
  const fallback = card.intents.find((intent) => intent.id === card.fallbackIntent);
  const table = formatTable(
    ['intent', 'label', 'rows', 'predicted', 'precision', 'recall', 'F1'],
    metrics.perIntent.map((m) => [
      m.intentId,
      m.label,
      String(m.support),
      String(m.predicted),
      fixed(m.precision),
      fixed(m.recall),
      fixed(m.f1),
    ]),
    { right: ['rows', 'predicted', 'precision', 'recall', 'F1'] },
  );
  const oos = metrics.outOfScope;
  const latency = metrics.latencyMs;
  return [
    table,
    '',
    `model ${visible(model.id)} (${model.dtype}, cpu, ${model.calibrated ? 'calibrated' : 'uncalibrated'}) · ${metrics.total} rows`,
    `accuracy ${percent(metrics.accuracy)} (${metrics.correct}/${metrics.total}) · top-1 ${percent(metrics.topAccuracy)} · macro-F1 ${fixed(metrics.macroF1)}`,
    `out of scope (${visible(fallback?.label ?? card.fallbackIntent)}): precision ${fixed(oos.precision)} recall ${fixed(oos.recall)} (${oos.truePositives} of ${oos.support} rows, ${oos.predicted} routed out)`,
    `routes: intent ${metrics.routes.intent}, out_of_scope ${metrics.routes.out_of_scope}, escalate ${metrics.routes.escalate} · accepted precision ${percent(metrics.accepted.precision)}`,
    `ECE ${fixed(metrics.calibration.ece)}` +
      (model.calibrated ? ` (uncalibrated ${fixed(uncalibrated.ece)})` : ''),
    `latency p50 ${latency.p50.toFixed(1)} ms, p95 ${latency.p95.toFixed(1)} ms ` +
      (batchSize === 1 ? '(per message)' : `(batch time / ${batchSize})`),
    ...toolCallSummary(evaluation.toolCalls),
  ].join('\n');
}

/** The tool-call lines of the summary; none when the data has no labelled calls. */
function toolCallSummary(tools: ToolCallMetrics): string[] {
  if (tools.rows === 0) return [];
  const perTool = Object.entries(tools.perTool)
    .map(([name, tool]) => `${visible(name)} ${tool.exactMatch}/${tool.rows}`)
    .join(', ');
  const decode = tools.decodeLatencyMs;
  return [
    `tool calls: argument exact-match ${percent(tools.exactMatchRate)} (${tools.exactMatch}/${tools.rows}) · ` +
      `given the right intent ${percent(tools.exactMatchGivenIntent)} · ${perTool}`,
    `tool-call decoding adds p50 ${decode.p50.toFixed(1)} ms, p95 ${decode.p95.toFixed(1)} ms ` +
      `(${tools.meanDecodeSteps.toFixed(1)} model calls on average)`,
    '',
    ...argumentSummary(tools.arguments, tools.rows),
  ];
}

/**
 * The per-argument table (tool × argument, then all) and its headline: exact-match on stated
 * values, wrong and invented values, and the rows routed to another intent, not scored.
 */
function argumentSummary(metrics: ArgumentMetrics, rows: number): string[] {
  const cells = (counts: ArgumentCounts) => [
    String(counts.scored),
    String(counts.stated),
    String(counts.exact),
    String(counts.wrong),
    String(counts.invented),
    String(counts.missing),
    percent(counts.exactMatchRate),
  ];
  const table = formatTable(
    [
      'tool',
      'argument',
      'scored',
      'stated',
      'exact',
      'wrong',
      'invented',
      'missing',
      'exact-match',
    ],
    [
      ...Object.entries(metrics.perTool).flatMap(([tool, { arguments: byArgument }]) =>
        Object.entries(byArgument).map(([argument, counts]) => [tool, argument, ...cells(counts)]),
      ),
      ['all', '', ...cells(metrics.overall)],
    ],
    { right: ['scored', 'stated', 'exact', 'wrong', 'invented', 'missing', 'exact-match'] },
  );
  const { overall, wrongIntent } = metrics;
  const misrouted = Object.entries(metrics.perTool).flatMap(([tool, { wrongIntent: count }]) =>
    count === 0 ? [] : [`${visible(tool)} ${count}`],
  );
  return [
    table,
    '',
    `arguments: exact-match on stated values ${percent(overall.exactMatchRate)} ` +
      `(${overall.exact}/${overall.stated}) · wrong values ${overall.wrong} · ` +
      `invented values ${overall.invented} · missing ${overall.missing}`,
    `wrong intent: ${wrongIntent.rows} of ${rows} rows with a call routed elsewhere or escalated, ` +
      'not scored above' +
      (wrongIntent.rows === 0
        ? ''
        : ` (${misrouted.join(', ')}; ${wrongIntent.proposedCall} proposed another tool's call)`),
  ];
}
