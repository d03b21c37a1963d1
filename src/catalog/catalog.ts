import { DataValidationError } from '../shared/errors';
import { checkDocument, isRecord } from '../shared/validation';
import { routeProblems } from './routes';
import { checkLocalizedText, toolListProblems } from './tool-declarations';
import type { Catalog, Intent, ResultFormat } from './types';

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
  if (Array.isArray(value.tools)) {
    value.tools.forEach((tool: unknown, index) => {
      if (isRecord(tool) && tool.presentation !== undefined) {
        problems.push(...presentationProblems(tool, `tools[${index}].presentation`));
      }
    });
  }
  checkToolBindings(intents, tools.names, (problem, _intent, index) => {
    problems.push(`intents[${index}]${BINDING_PROBLEMS[problem]}`);
  });
  problems.push(...routeProblems(value.routes, intents, value.fallbackIntent));
  if (value.starters !== undefined) {
    if (!Array.isArray(value.starters) || value.starters.length > MAX_STARTERS) {
      problems.push(`"starters" must be an array of at most ${MAX_STARTERS} {zh, en} texts`);
    } else {
      value.starters.forEach((starter: unknown, index) => {
        checkLocalizedText(starter, `starters[${index}]`, problems);
      });
    }
  }
  return problems;
}

/** The most questions an empty conversation offers (more crowd a phone's screen). */
const MAX_STARTERS = 6;

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

/**
 * A `{name}` placeholder in a confirmation sentence or a value (see `ToolPresentation`); global,
 * so use it with `replace`, `split` and `matchAll` only.
 */
export const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const PRESENTATION_KEYS = ['title', 'fields', 'values', 'confirm', 'result'];
const RESULT_FIELD_KEYS = ['key', 'label', 'format'];
const RESULT_FORMATS: readonly ResultFormat[] = ['yuan', 'date', 'list'];

/**
 * The names of the `{name}` placeholders in `text`, in order of first use.
 *
 * @example
 * placeholdersOf('为订单 {order_id} 申请退款，原因：{reason}') // ['order_id', 'reason']
 */
export function placeholdersOf(text: string): string[] {
  return [...new Set(Array.from(text.matchAll(PLACEHOLDER), (match) => match[1] ?? ''))];
}

/** Whether `text` has a `{` or `}` that is not part of a `{name}` placeholder. */
function hasStrayBrace(text: string): boolean {
  return /[{}]/.test(text.replace(PLACEHOLDER, ''));
}

/** Adds a problem for each placeholder of a `{zh, en}` text that `allowed` does not hold. */
function checkPlaceholders(
  text: Record<string, unknown>,
  where: string,
  allowed: (name: string) => string | undefined,
  problems: string[],
): void {
  for (const language of ['zh', 'en'] as const) {
    const sentence = text[language];
    if (typeof sentence !== 'string') continue;
    if (hasStrayBrace(sentence)) {
      problems.push(
        `${where}.${language} has a "{" or "}" that is not part of a {name} placeholder`,
      );
    }
    for (const name of placeholdersOf(sentence)) {
      const problem = allowed(name);
      if (problem !== undefined) problems.push(`${where}.${language} uses {${name}}, ${problem}`);
    }
  }
}

/**
 * Every problem of a tool's `presentation` (see `ToolPresentation`), each prefixed with `where`
 * (e.g. `tools[3].presentation`); empty when it is valid. `tool` is the whole declaration: the
 * fields named and the confirmation's placeholders must be the tool's own parameters.
 *
 * The rules: `title` is a `{zh, en}` text; `fields` names every parameter and nothing else;
 * `values` holds `{zh, en}` texts, each using only the placeholders of its key; each `confirm`
 * sentence uses only parameters as placeholders, the same ones in zh and en; `result` lists
 * fields `{key, label, format?}` with distinct keys.
 *
 * NOTE: `values` need not cover every enum value: an uncovered value shows as it is, which is a
 * working quick reply, and tying each enum edit to a presentation edit would make a schema change
 * fail the whole catalog. The demo catalog's coverage is a unit test instead
 * (test/unit/tool-presentation.test.ts: no Chinese in the English UI).
 *
 * @example
 * presentationProblems(tool, 'tools[3].presentation');
 * // ['tools[3].presentation.fields.reasn: "reasn" is not a parameter of tool "request_refund"']
 */
export function presentationProblems(tool: Record<string, unknown>, where: string): string[] {
  const { presentation } = tool;
  const name = typeof tool.name === 'string' ? `tool "${tool.name}"` : 'the tool';
  if (!isRecord(presentation)) {
    return [`${where} must be an object with "title" and "fields" (how customers see ${name})`];
  }
  const problems: string[] = [];
  for (const key of Object.keys(presentation)) {
    if (!PRESENTATION_KEYS.includes(key)) {
      problems.push(
        `${where} has unsupported key "${key}"; a presentation supports: ${PRESENTATION_KEYS.join(', ')}`,
      );
    }
  }
  checkLocalizedText(presentation.title, `${where}.title`, problems);
  const parameters = isRecord(tool.parameters) ? tool.parameters : {};
  const properties = isRecord(parameters.properties) ? parameters.properties : {};
  const notParameter = (key: string) =>
    Object.hasOwn(properties, key) ? undefined : `which is not a parameter of ${name}`;

  const { fields } = presentation;
  if (!isRecord(fields)) {
    problems.push(`${where}.fields must be an object of customers' names by parameter name`);
  } else {
    for (const [key, label] of Object.entries(fields)) {
      if (!Object.hasOwn(properties, key)) {
        problems.push(`${where}.fields.${key}: "${key}" is not a parameter of ${name}`);
      }
      checkLocalizedText(label, `${where}.fields.${key}`, problems);
    }
    for (const key of Object.keys(properties)) {
      if (!Object.hasOwn(fields, key)) {
        problems.push(
          `${where}.fields has no name for parameter "${key}" of ${name} (customers would see the key)`,
        );
      }
    }
  }

  const { values } = presentation;
  if (values !== undefined && !isRecord(values)) {
    problems.push(`${where}.values must be an object of {zh, en} texts by value`);
  }
  const valueTable = isRecord(values) ? values : {};
  for (const [value, text] of Object.entries(valueTable)) {
    const at = `${where}.values[${JSON.stringify(value)}]`;
    checkLocalizedText(text, at, problems);
    const own = placeholdersOf(value);
    if (value.trim() === '' || (own.length > 0 && value.replace(PLACEHOLDER, '').trim() === '')) {
      problems.push(`${at}: a value must have text besides its placeholders`);
    }
    if (isRecord(text)) {
      checkPlaceholders(
        text,
        at,
        (placeholder) =>
          own.includes(placeholder)
            ? undefined
            : `which the value ${JSON.stringify(value)} does not have`,
        problems,
      );
    }
  }

  const { confirm } = presentation;
  if (confirm !== undefined) {
    const sentences: unknown[] = Array.isArray(confirm) ? confirm : [confirm];
    if (sentences.length === 0) {
      problems.push(`${where}.confirm must be a {zh, en} sentence or a non-empty list of them`);
    }
    sentences.forEach((sentence, index) => {
      const at = Array.isArray(confirm) ? `${where}.confirm[${index}]` : `${where}.confirm`;
      checkLocalizedText(sentence, at, problems);
      if (!isRecord(sentence)) return;
      checkPlaceholders(sentence, at, notParameter, problems);
      const { zh, en } = sentence;
      if (typeof zh !== 'string' || typeof en !== 'string') return;
      const inZh = placeholdersOf(zh).sort();
      const inEn = placeholdersOf(en).sort();
      if (inZh.join() !== inEn.join()) {
        const list = (names: string[]) => names.map((key) => `{${key}}`).join(', ') || 'none';
        problems.push(
          `${at}: zh and en must use the same placeholders (zh: ${list(inZh)}; en: ${list(inEn)})`,
        );
      }
    });
  }

  const { result } = presentation;
  if (result !== undefined) {
    if (!Array.isArray(result)) {
      problems.push(`${where}.result must be a list of {key, label, format?} result fields`);
    } else {
      const seen = new Set<string>();
      result.forEach((field: unknown, index) => {
        const at = `${where}.result[${index}]`;
        if (!isRecord(field)) {
          problems.push(`${at} must be an object {key, label, format?}`);
          return;
        }
        for (const key of Object.keys(field)) {
          if (!RESULT_FIELD_KEYS.includes(key)) {
            problems.push(
              `${at} has unsupported key "${key}"; a result field supports: ${RESULT_FIELD_KEYS.join(', ')}`,
            );
          }
        }
        if (typeof field.key !== 'string' || field.key === '') {
          problems.push(`${at}.key must be the name of a field of ${name}'s result`);
        } else if (seen.has(field.key)) {
          problems.push(`${at}.key "${field.key}" is listed twice`);
        } else {
          seen.add(field.key);
        }
        checkLocalizedText(field.label, `${at}.label`, problems);
        if (
          field.format !== undefined &&
          !(RESULT_FORMATS as readonly unknown[]).includes(field.format)
        ) {
          problems.push(`${at}.format must be one of ${RESULT_FORMATS.join(', ')}`);
        }
      });
    }
  }
  return problems;
}
