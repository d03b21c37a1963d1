import type { Classification } from '../../engine/classification';
import { loadClassifier, openModelFolder, readCalibrationFlag } from '../model';
import { parseFlags, UsageError } from '../options';
import { fixed, formatTable } from '../table';
import { visible } from '../terminal';
import type { CommandContext } from '../context';

/** `fenliu classify "text" …`: one block (or JSON object) per message. */
export async function classifyCommand(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    {
      model: { type: 'string' },
      dtype: { type: 'string' },
      calibration: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    true,
  );
  if (positionals.length === 0) throw new UsageError('give the message to classify, in quotes');
  const calibration = readCalibrationFlag(values.calibration, context.cwd);
  const { folder } = await openModelFolder(values.model, context.cwd);
  const classifier = await loadClassifier(folder, {
    dtype: values.dtype,
    calibration,
    signal: context.signal,
  });
  try {
    const results: Classification[] = [];
    for (const text of positionals) {
      results.push(await classifier.classify(text, { signal: context.signal }));
    }
    if (values.json) {
      context.out(JSON.stringify(positionals.length === 1 ? results[0] : results, null, 2));
      return 0;
    }
    const { dtype, calibrated } = classifier.info;
    positionals.forEach((text, i) => {
      const result = results[i];
      if (!result) return;
      if (i > 0) context.out('');
      context.out(describe(text, result));
    });
    context.err(
      `model ${folder.modelId} (${dtype}, cpu${calibrated ? ', calibrated' : ', uncalibrated'})`,
    );
    return 0;
  } finally {
    await classifier.dispose();
  }
}

function describe(text: string, result: Classification): string {
  const lines = [
    `message     ${visible(text)}`,
    `intent      ${visible(result.label)} (${visible(result.intentId)})`,
    `route       ${result.route}${result.reason === null ? '' : ` — ${visible(result.reason)}`}`,
    `confidence  ${fixed(result.confidence)}`,
    `margin      ${fixed(result.margin)}`,
    `latency     ${result.latencyMs.toFixed(1)} ms`,
    '',
    formatTable(
      ['#', 'label', 'intent', 'probability'],
      result.scores
        .slice(0, 3)
        .map((score, rank) => [
          String(rank + 1),
          score.label,
          score.intentId,
          fixed(score.probability),
        ]),
      { right: ['probability'] },
    ),
  ];
  return lines.join('\n');
}
