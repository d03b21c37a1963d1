import { DataValidationError, type SourceIssue } from './errors';

/** Text in the UI languages fenliu ships. */
export interface LocalizedText {
  zh: string;
  en: string;
}

export interface Intent {
  /** Stable identifier used by code and tool bindings, e.g. `order_status`. */
  id: string;
  /** The exact text the model answers with, e.g. `查询订单`. */
  label: string;
  name: LocalizedText;
  description: LocalizedText;
}

/**
 * Intents are data, not code: a catalog names every intent, the label the model answers with,
 * and which intent receives messages that fit none of the others.
 */
export interface Catalog {
  version: 1;
  id: string;
  name: LocalizedText;
  /** Intent id used when nothing else fits (and for answers outside the catalog). */
  fallbackIntent: string;
  intents: Intent[];
}

const ID_PATTERN = /^[a-z][a-z0-9_]*$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkLocalized(value: unknown, where: string, problems: string[]): void {
  if (!isRecord(value)) {
    problems.push(`${where} must be an object with "zh" and "en" strings`);
    return;
  }
  for (const language of ['zh', 'en'] as const) {
    const text = value[language];
    if (typeof text !== 'string' || text.trim() === '') {
      problems.push(`${where}.${language} must be a non-empty string`);
    }
  }
}

/**
 * Checks a parsed catalog and returns it typed, or throws a `DataValidationError` listing every
 * problem (not just the first), each pointing at `file`.
 *
 * @example
 * const catalog = validateCatalog(JSON.parse(text), 'data/demo/catalog.json');
 */
export function validateCatalog(value: unknown, file = 'catalog'): Catalog {
  const problems: string[] = [];
  if (!isRecord(value)) {
    throw new DataValidationError('catalog-invalid', [
      { file, line: 1, reason: 'the catalog must be a JSON object' },
    ]);
  }
  if (value.version !== 1) problems.push('"version" must be 1');
  if (typeof value.id !== 'string' || value.id === '') problems.push('"id" must be a string');
  checkLocalized(value.name, '"name"', problems);

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
    checkLocalized(intent.name, `${where}.name`, problems);
    checkLocalized(intent.description, `${where}.description`, problems);
  });
  if (typeof value.fallbackIntent !== 'string' || !ids.has(value.fallbackIntent)) {
    problems.push('"fallbackIntent" must be the id of one of the intents');
  }

  if (problems.length > 0) {
    const issues: SourceIssue[] = problems.map((reason) => ({ file, line: 1, reason }));
    throw new DataValidationError('catalog-invalid', issues);
  }
  return value as unknown as Catalog;
}

/** Looks intents up by the label the model answers with. */
export function intentsByLabel(catalog: Pick<Catalog, 'intents'>): Map<string, Intent> {
  return new Map(catalog.intents.map((intent) => [intent.label, intent]));
}
