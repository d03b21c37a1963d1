import { DataValidationError, type SourceIssue } from '../shared/errors';
import { checkLocalizedText, toolSpecProblems } from './json-schema';
import type { ToolSpec } from './tool-spec';

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
  /** Name of the catalog tool this intent calls; the model then writes the call's arguments. */
  tool?: string;
  /** Every turn with this intent goes to the escalation handler (e.g. "talk to a person"). */
  escalate?: boolean;
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
  /** Tools intents may call, declared as data (see src/catalog/tool-spec.ts). */
  tools?: ToolSpec[];
}

const ID_PATTERN = /^[a-z][a-z0-9_]*$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
  checkTools(value.tools, intents, problems);

  if (problems.length > 0) {
    const issues: SourceIssue[] = problems.map((reason) => ({ file, line: 1, reason }));
    throw new DataValidationError('catalog-invalid', issues);
  }
  return value as unknown as Catalog;
}

/** Tool declarations (each spec, unique names) and the intents' `tool`/`escalate` bindings. */
function checkTools(tools: unknown, intents: unknown[], problems: string[]): void {
  const names = new Set<string>();
  if (tools !== undefined && !Array.isArray(tools)) {
    problems.push('"tools" must be an array of tool declarations');
  }
  (Array.isArray(tools) ? tools : []).forEach((tool: unknown, index) => {
    problems.push(...toolSpecProblems(tool, `tools[${index}]`));
    const name = isRecord(tool) ? tool.name : undefined;
    if (typeof name !== 'string') return;
    if (names.has(name)) problems.push(`tools[${index}].name "${name}" is used twice`);
    names.add(name);
  });
  intents.forEach((intent: unknown, index) => {
    if (!isRecord(intent)) return;
    const where = `intents[${index}]`;
    if (intent.tool !== undefined) {
      if (typeof intent.tool !== 'string' || !names.has(intent.tool)) {
        problems.push(`${where}.tool must be the name of one of the "tools"`);
      } else if (intent.escalate === true) {
        problems.push(`${where} cannot both call a tool and escalate`);
      }
    }
    if (intent.escalate !== undefined && typeof intent.escalate !== 'boolean') {
      problems.push(`${where}.escalate must be true or false`);
    }
  });
}

/** Looks intents up by the label the model answers with. */
export function intentsByLabel(catalog: Pick<Catalog, 'intents'>): Map<string, Intent> {
  return new Map(catalog.intents.map((intent) => [intent.label, intent]));
}
