import type { Intent, ToolArguments, ToolSpec } from '../catalog/types';
import { DataValidationError, errorMessage, ToolError, type SourceIssue } from '../shared/errors';
import { isRecord } from '../shared/validation';
import { unconfirmedChangeProblem } from '../catalog/tool-declarations';

/** What a tool's code receives besides its arguments. */
export interface ToolContext {
  /** Fires when the user stops the call or its timeout passes; long work should stop then. */
  signal: AbortSignal;
}

/**
 * The code half of a tool (the catalog holds the data half). It receives arguments already
 * checked against the tool's schema and returns a JSON-serialisable plain object.
 */
export type ToolImplementation = (args: ToolArguments, context: ToolContext) => Promise<unknown>;

/** A declared tool together with its code. */
export interface RegisteredTool {
  /** The declaration, with the host's overrides applied. */
  spec: ToolSpec;
  execute: ToolImplementation;
}

/**
 * A host's changes to a declared tool. Only changes towards safety are accepted: a longer
 * timeout, or confirmation switched on.
 */
export interface ToolOverride {
  /** At least the declared `timeoutMs`. */
  timeoutMs?: number;
  /**
   * `true` to ask first; `false` only for a tool that neither declares confirmation nor changes
   * data.
   */
  requiresConfirmation?: boolean;
}

export interface ToolRegistryOptions {
  /** Per-tool overrides, keyed by tool name. */
  overrides?: Record<string, ToolOverride>;
  /** Names the catalog file in error messages. */
  file?: string;
}

function applyOverride(
  spec: ToolSpec,
  override: ToolOverride | undefined,
  problems: string[],
): ToolSpec {
  if (spec.changesData && !spec.requiresConfirmation) {
    // NOTE: specs built in code skip the catalog check; the registry holds to the same rule.
    problems.push(unconfirmedChangeProblem(spec.name));
  }
  if (override === undefined) return spec;
  const applied = { ...spec };
  if (override.timeoutMs !== undefined) {
    // NOTE: a call abandoned by its timeout may still complete at the backend while the user is
    // told it failed; a host may give a slow backend more time but not cut the catalog's limit.
    if (!Number.isFinite(override.timeoutMs) || override.timeoutMs < spec.timeoutMs) {
      problems.push(
        `tool "${spec.name}": the timeout override ${override.timeoutMs} ms must be a number of at least the declared ${spec.timeoutMs} ms`,
      );
    } else {
      applied.timeoutMs = override.timeoutMs;
    }
  }
  if (override.requiresConfirmation !== undefined) {
    if ((spec.requiresConfirmation || spec.changesData) && !override.requiresConfirmation) {
      problems.push(
        spec.changesData
          ? `tool "${spec.name}" changes data; a host cannot switch its confirmation off`
          : `tool "${spec.name}" declares requiresConfirmation; a host cannot switch it off`,
      );
    } else {
      applied.requiresConfirmation = override.requiresConfirmation;
    }
  }
  return applied;
}

/** What a host supplied, for messages: its kind, never its content (a function's source). */
function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * The host's implementations by name, each read once: host pages are plain JavaScript, so the
 * map may be anything (a string, an array, a proxy or a getter that throws). Problems are pushed
 * naming the tool; an entry that could not be read is `unreadable` (supplied, so not reported
 * again as missing).
 */
function readImplementations(
  implementations: unknown,
  problems: string[],
): Map<string, { execute: unknown } | 'unreadable'> {
  const read = new Map<string, { execute: unknown } | 'unreadable'>();
  if (!isRecord(implementations)) {
    problems.push(
      `"tools" must be an object of functions by tool name, got ${kindOf(implementations)}`,
    );
    return read;
  }
  let names: string[];
  try {
    names = Object.keys(implementations);
  } catch (error) {
    problems.push(`"tools" could not be read: ${errorMessage(error)}`);
    return read;
  }
  for (const name of names) {
    try {
      read.set(name, { execute: implementations[name] });
    } catch (error) {
      problems.push(`tool "${name}": tools.${name} could not be read: ${errorMessage(error)}`);
      read.set(name, 'unreadable');
    }
  }
  return read;
}

/**
 * The tools a page can run: the catalog's declarations joined with their code by name.
 * Construction fails with one `DataValidationError` (`catalog-invalid`) listing every problem,
 * each naming its tool: a declared tool without code, code that is not a function, code without
 * a declaration, a name declared twice, a tool that changes data without confirmation, an
 * override that would make a tool less safe, or a `tools` map that is not an object of functions.
 *
 * @example
 * const registry = new ToolRegistry(catalog.tools ?? [], createDemoTools(demoShopStore()));
 * const tool = registry.forIntent(intent); // RegisteredTool | undefined
 */
export class ToolRegistry {
  private readonly tools = new Map<string, RegisteredTool>();

  constructor(
    specs: readonly ToolSpec[],
    implementations: Readonly<Record<string, ToolImplementation>>,
    options: ToolRegistryOptions = {},
  ) {
    const problems: string[] = [];
    const overrides = options.overrides ?? {};
    const supplied = readImplementations(implementations, problems);
    for (const spec of specs) {
      if (this.tools.has(spec.name)) {
        problems.push(`tool "${spec.name}" is declared twice`);
        continue;
      }
      const implementation = supplied.get(spec.name);
      if (implementation === undefined) {
        problems.push(`tool "${spec.name}" is declared but has no implementation`);
        continue;
      }
      if (implementation === 'unreadable') continue;
      const { execute } = implementation;
      if (typeof execute !== 'function') {
        problems.push(
          `tool "${spec.name}": tools.${spec.name} must be a function ` +
            `(args, { signal }) => Promise<object>, got ${kindOf(execute)}`,
        );
        continue;
      }
      const override = Object.hasOwn(overrides, spec.name) ? overrides[spec.name] : undefined;
      this.tools.set(spec.name, {
        spec: applyOverride(spec, override, problems),
        execute: execute as ToolImplementation,
      });
    }
    const declared = new Set(specs.map((spec) => spec.name));
    for (const name of supplied.keys()) {
      if (!declared.has(name))
        problems.push(`tool "${name}" has an implementation but no declaration`);
    }
    for (const name of Object.keys(overrides)) {
      if (!declared.has(name)) problems.push(`tool "${name}" has an override but no declaration`);
    }
    if (problems.length > 0) {
      const file = options.file ?? 'catalog';
      const issues: SourceIssue[] = problems.map((reason) => ({ file, line: 1, reason }));
      throw new DataValidationError('catalog-invalid', issues);
    }
  }

  /** The tool with this name, or undefined. */
  get(name: string): RegisteredTool | undefined {
    return this.tools.get(name);
  }

  /** Every declaration, overrides applied, in catalog order (for Qwen3's `tools`). */
  get specs(): ToolSpec[] {
    return [...this.tools.values()].map((tool) => tool.spec);
  }

  /**
   * The tool an intent is bound to, or undefined for an intent without one. An intent naming a
   * tool the registry lacks is a `tool-unknown` error, not silence.
   */
  forIntent(intent: Pick<Intent, 'id' | 'tool'>): RegisteredTool | undefined {
    if (intent.tool === undefined) return undefined;
    const tool = this.tools.get(intent.tool);
    if (tool === undefined) {
      throw new ToolError(
        'tool-unknown',
        intent.tool,
        `Intent "${intent.id}" is bound to tool "${intent.tool}", which is not registered.`,
      );
    }
    return tool;
  }
}
