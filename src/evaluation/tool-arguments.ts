/**
 * Per-argument scoring of decoded tool calls: each (row, argument) pair of a correctly routed row
 * is exact, a wrong value, an invented value, missing, or rightly absent. Pure functions over
 * plain data, read by `toolCallMetrics` (eval.json's `toolCalls.arguments`) and `fenliu eval`.
 */
import type { ToolArguments, ToolCall, ToolSpec } from '../catalog/types';
import type { Classification } from '../engine/classification';

/** One argument's value, as labelled or decoded. */
export type ArgumentValue = ToolArguments[string];

/**
 * What became of one argument of one row:
 * - `exact`: stated in the message (labelled) and decoded with the same value;
 * - `wrong`: stated, decoded with another value;
 * - `invented`: not stated (absent from the labelled arguments), yet decoded;
 * - `missing`: stated, not decoded (left out, so the widget asks for it);
 * - `absent`: neither stated nor decoded (rightly asked for, or rightly left out).
 */
export type ArgumentOutcome = 'exact' | 'wrong' | 'invented' | 'missing' | 'absent';

/** The outcome of one argument of a row, with both values. */
export interface ArgumentCheck {
  argument: string;
  outcome: ArgumentOutcome;
  /** The labelled value, when the message states one. */
  expected?: ArgumentValue;
  /** The decoded value, when the call has one. */
  decoded?: ArgumentValue;
}

/**
 * A row's arguments scored, or `wrong-intent` when the row was not routed to its intent: to
 * another one (out of scope included), to escalation (no call is proposed then), or to a call of
 * another tool. Its arguments are then not scored at all: no call of the labelled tool reaches
 * the customer.
 */
export type RowArguments =
  | { kind: 'scored'; tool: string; arguments: ArgumentCheck[] }
  | { kind: 'wrong-intent'; tool: string; proposedCall: boolean };

/** A row as the argument scoring reads it: the label, the labelled call, what was proposed. */
export interface ArgumentPrediction {
  /** Intent id the row is labelled with. */
  expected: string;
  expectedToolCall?: ToolCall;
  classification: Pick<Classification, 'intentId' | 'route'> & {
    toolCall?: Pick<ToolCall, 'name' | 'arguments'>;
  };
}

/** The tools' schemas, whose `parameters.properties` name the arguments scored. */
export type ToolSchemas = readonly Pick<ToolSpec, 'name' | 'parameters'>[];

/**
 * Scores one row's arguments over `keys` (the tool's parameters), comparing the decoded call's
 * arguments with the labelled ones. A row routed to another intent or escalated, or whose call
 * names another tool, is `wrong-intent`. A decoded value that failed validation was dropped from
 * `arguments` (and is asked for): it counts as not decoded.
 *
 * @example
 * scoreRowArguments(
 *   {
 *     expected: 'refund',
 *     expectedToolCall: { name: 'request_refund', arguments: { order_id: '2024113012345', reason: '质量问题' } },
 *     classification: { intentId: 'refund', route: 'intent', toolCall: { name: 'request_refund', arguments: { order_id: '2024113012345', reason: '尺码不合适' } } },
 *   },
 *   ['order_id', 'reason'],
 * );
 * // {kind: 'scored', tool: 'request_refund', arguments: [
 * //   {argument: 'order_id', outcome: 'exact', …}, {argument: 'reason', outcome: 'wrong', …}]}
 */
export function scoreRowArguments(
  row: ArgumentPrediction & { expectedToolCall: ToolCall },
  keys: readonly string[],
): RowArguments {
  const labelled = row.expectedToolCall;
  const proposed = row.classification.toolCall;
  if (
    row.classification.intentId !== row.expected ||
    row.classification.route !== 'intent' ||
    (proposed !== undefined && proposed.name !== labelled.name)
  ) {
    return { kind: 'wrong-intent', tool: labelled.name, proposedCall: proposed !== undefined };
  }
  const decodedArguments = proposed?.arguments ?? {};
  return {
    kind: 'scored',
    tool: labelled.name,
    arguments: keys.map((argument): ArgumentCheck => {
      const expected = own(labelled.arguments, argument);
      const decoded = own(decodedArguments, argument);
      const values = {
        ...(expected !== undefined && { expected }),
        ...(decoded !== undefined && { decoded }),
      };
      return { argument, outcome: outcome(expected, decoded), ...values };
    }),
  };
}

function outcome(
  expected: ArgumentValue | undefined,
  decoded: ArgumentValue | undefined,
): ArgumentOutcome {
  if (expected === undefined) return decoded === undefined ? 'absent' : 'invented';
  if (decoded === undefined) return 'missing';
  return decoded === expected ? 'exact' : 'wrong';
}

function own(values: ToolArguments, key: string): ArgumentValue | undefined {
  return Object.hasOwn(values, key) ? values[key] : undefined;
}

/** Counts of the outcomes of one argument, one tool's arguments or all of them. */
export interface ArgumentCounts {
  /** (row, argument) pairs scored: per argument, the rows of its tool routed to the right intent. */
  scored: number;
  /** Pairs whose value the message states (labelled): `exact + wrong + missing`. */
  stated: number;
  exact: number;
  wrong: number;
  invented: number;
  missing: number;
  /** `exact / stated`: exact-match on stated values; null without stated values. */
  exactMatchRate: number | null;
}

/** Per-argument scoring of the rows with a labelled tool call (eval.json's `toolCalls.arguments`). */
export interface ArgumentMetrics {
  /** Over every tool and argument: the headline figures. */
  overall: ArgumentCounts;
  /** Per tool (in the order of `tools`, then of first appearance), per argument (schema order). */
  perTool: Record<
    string,
    {
      /** Rows with this tool's labelled call. */
      rows: number;
      /** Of those, rows not routed to its intent (not scored). */
      wrongIntent: number;
      arguments: Record<string, ArgumentCounts>;
    }
  >;
  /**
   * Rows not routed to their labelled intent (another intent, out of scope, escalated): not
   * scored as argument errors.
   */
  wrongIntent: {
    rows: number;
    /** Of those, rows that still proposed a call (of another intent's tool). */
    proposedCall: number;
  };
}

/** A wrong or invented value, for the list of mistakes. */
export interface ArgumentMistake<Row> {
  row: Row;
  tool: string;
  argument: string;
  kind: 'wrong' | 'invented';
  /** The labelled value; null for an invented one. */
  expected: ArgumentValue | null;
  decoded: ArgumentValue;
}

/**
 * The arguments of each row with a labelled call, scored (`scoreRowArguments`). Without a schema
 * for a tool (an older card, a test), its arguments are the keys of the labelled and decoded calls.
 */
export function scoreArguments<Row extends ArgumentPrediction>(
  rows: readonly Row[],
  tools: ToolSchemas = [],
): {
  row: Row & { expectedToolCall: ToolCall };
  /** The arguments scored for the row's tool. */
  keys: string[];
  scored: RowArguments;
}[] {
  const schemas = new Map(tools.map((tool) => [tool.name, tool.parameters]));
  return rows.filter(hasToolCall).map((row) => {
    const labelled = row.expectedToolCall;
    const schema = schemas.get(labelled.name);
    const keys = schema
      ? Object.keys(schema.properties)
      : [
          ...new Set([
            ...Object.keys(labelled.arguments),
            ...Object.keys(row.classification.toolCall?.arguments ?? {}),
          ]),
        ];
    return { row, keys, scored: scoreRowArguments(row, keys) };
  });
}

function hasToolCall<Row extends ArgumentPrediction>(
  row: Row,
): row is Row & { expectedToolCall: ToolCall } {
  return row.expectedToolCall !== undefined;
}

/**
 * Exact, wrong, invented and missing values per tool and argument, and overall; rows routed to
 * another intent are counted apart (`wrongIntent`).
 *
 * @example
 * const { overall } = argumentMetrics(evaluation.rows, classifier.info.tools);
 * overall.exactMatchRate; // 0.91: exact-match on stated values
 * overall.wrong + overall.invented; // values that would reach a confirmation card wrongly
 */
export function argumentMetrics(
  rows: readonly ArgumentPrediction[],
  tools: ToolSchemas = [],
): ArgumentMetrics {
  const order = tools.map((tool) => tool.name);
  const scored = scoreArguments(rows, tools).sort(
    (a, b) => rank(order, a.scored.tool) - rank(order, b.scored.tool),
  );
  const perTool: ArgumentMetrics['perTool'] = {};
  const overall = emptyCounts();
  const wrongIntent = { rows: 0, proposedCall: 0 };
  for (const { keys, scored: row } of scored) {
    const tool = (perTool[row.tool] ??= { rows: 0, wrongIntent: 0, arguments: {} });
    // Every parameter gets a line, even one whose rows were all misrouted.
    for (const key of keys) tool.arguments[key] ??= emptyCounts();
    tool.rows++;
    if (row.kind === 'wrong-intent') {
      tool.wrongIntent++;
      wrongIntent.rows++;
      if (row.proposedCall) wrongIntent.proposedCall++;
      continue;
    }
    for (const check of row.arguments) {
      count((tool.arguments[check.argument] ??= emptyCounts()), check.outcome);
      count(overall, check.outcome);
    }
  }
  return { overall, perTool, wrongIntent };
}

/** Every wrong or invented value of the correctly routed rows, in the rows' order. */
export function argumentMistakes<Row extends ArgumentPrediction>(
  rows: readonly Row[],
  tools: ToolSchemas = [],
): ArgumentMistake<Row>[] {
  return scoreArguments(rows, tools).flatMap(({ row, scored }) =>
    scored.kind === 'wrong-intent'
      ? []
      : scored.arguments.flatMap((check): ArgumentMistake<Row>[] => {
          if (check.decoded === undefined) return [];
          if (check.outcome !== 'wrong' && check.outcome !== 'invented') return [];
          return [
            {
              row,
              tool: scored.tool,
              argument: check.argument,
              kind: check.outcome,
              expected: check.expected ?? null,
              decoded: check.decoded,
            },
          ];
        }),
  );
}

function emptyCounts(): ArgumentCounts {
  return {
    scored: 0,
    stated: 0,
    exact: 0,
    wrong: 0,
    invented: 0,
    missing: 0,
    exactMatchRate: null,
  };
}

function count(counts: ArgumentCounts, outcome: ArgumentOutcome): void {
  counts.scored++;
  if (outcome !== 'absent') counts[outcome]++;
  if (outcome !== 'invented' && outcome !== 'absent') counts.stated++;
  counts.exactMatchRate = counts.stated === 0 ? null : counts.exact / counts.stated;
}

/** Position of a tool in the schemas' order; tools without a schema after them, as they come. */
function rank(order: readonly string[], tool: string): number {
  const index = order.indexOf(tool);
  return index === -1 ? order.length : index;
}
