import { DataValidationError } from '../shared/errors';
import { checkDocument, isRecord } from '../shared/validation';
import { routeProblems } from './routes';
import { checkLocalizedText, toolListProblems } from './tool-declarations';
import type { Catalog, Intent } from './types';

const ID_PATTERN = /^[a-z][a-z0-9_]*$/;

/** How a catalog words a binding problem, after `intents[N]`. */
const BINDING_PROBLEMS: Record<BindingProblem, string> = {
  'unknown-tool': '.tool must be the name of one of the "tools"',
  'tool-and-escalate': ' cannot both call a tool and escalate',
  'escalate-not-boolean': '.escalate must be true or false',
};

/**
 * Checks a parsed catalog and returns it typed, or throws a `DataValidationError` listing every
 * problem (not just the first), each pointing at `file`.
 *
 * @example
 * const catalog = validateCatalog(JSON.parse(text), 'data/demo/catalog.json');
 */
export function validateCatalog(value: unknown, file = 'catalog'): Catalog {
  return checkDocument<Catalog>(
    value,
    catalogProblems,
    (problems) =>
      new DataValidationError(
        'catalog-invalid',
        problems.map((reason) => ({ file, line: 1, reason })),
      ),
  );
}

/** Every problem of a parsed catalog (see src/shared/validation.ts); empty when it is valid. */
export function catalogProblems(value: unknown): string[] {
  if (!isRecord(value)) return ['the catalog must be a JSON object'];
  const problems: string[] = [];
  if (value.version !== 1) problems.push('"version" must be 1');
  if (typeof value.id !== 'string' || value.id === '') problems.push('"id" must be a string');
  checkLocalizedText(value.name, '"name"', problems);

  const intents = Array.isArray(value.intents) ? value.intents : [];
  if (!Array.isArray(value.intents) || intents.length < 2) {
    problems.push('"intents" must be an array of at least two intents');
  }
  const ids = new Set<string>();
  const labels = new Set<string>();
  intents.forEach((intent: unknown, index) => {
    const where = `intents[${index}]`;
    if (!isRecord(intent)) {
      problems.push(`${where} must be an object`);
      return;
    }
    const { id, label } = intent;
    if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
      problems.push(`${where}.id must match ${String(ID_PATTERN)}`);
    } else if (ids.has(id)) {
      problems.push(`${where}.id "${id}" is used twice`);
    } else {
      ids.add(id);
    }
    if (typeof label !== 'string' || label.trim() !== label || label === '') {
      problems.push(`${where}.label must be a non-empty string without surrounding spaces`);
    } else if (labels.has(label)) {
      problems.push(`${where}.label "${label}" is used twice`);
    } else {
      labels.add(label);
    }
    checkLocalizedText(intent.name, `${where}.name`, problems);
    checkLocalizedText(intent.description, `${where}.description`, problems);
  });
  if (typeof value.fallbackIntent !== 'string' || !ids.has(value.fallbackIntent)) {
    problems.push('"fallbackIntent" must be the id of one of the intents');
  }
  const tools = toolListProblems(value.tools, 'tools');
  problems.push(...tools.problems);
  checkToolBindings(intents, tools.names, (problem, _intent, index) => {
    problems.push(`intents[${index}]${BINDING_PROBLEMS[problem]}`);
  });
  problems.push(...routeProblems(value.routes, intents, value.fallbackIntent));
  return problems;
}

/** What can be wrong with how an intent is bound to a tool or to escalation. */
export type BindingProblem = 'unknown-tool' | 'tool-and-escalate' | 'escalate-not-boolean';

/**
 * The one check of intent bindings, for a catalog and for a model card: an intent's `tool` must
 * name one of `toolNames`, its `escalate` must be true or false, and it cannot do both. Calls
 * `report` for each problem, so each document words it the way its own messages read. Entries
 * that are not objects are left to the caller's own check.
 */
export function checkToolBindings(
  intents: readonly unknown[],
  toolNames: ReadonlySet<string>,
  report: (problem: BindingProblem, intent: Record<string, unknown>, index: number) => void,
): void {
  intents.forEach((intent, index) => {
    if (!isRecord(intent)) return;
    if (intent.tool !== undefined) {
      if (typeof intent.tool !== 'string' || !toolNames.has(intent.tool)) {
        report('unknown-tool', intent, index);
      } else if (intent.escalate === true) {
        report('tool-and-escalate', intent, index);
      }
    }
    if (intent.escalate !== undefined && typeof intent.escalate !== 'boolean') {
      report('escalate-not-boolean', intent, index);
    }
  });
}

/** Looks intents up by the label the model answers with. */
export function intentsByLabel(catalog: Pick<Catalog, 'intents'>): Map<string, Intent> {
  return new Map(catalog.intents.map((intent) => [intent.label, intent]));
}
