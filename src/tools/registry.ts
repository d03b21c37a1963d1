import type { Intent, ToolArguments, ToolSpec } from '../catalog/types';
import { DataValidationError, ToolError, type SourceIssue } from '../shared/errors';
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

/**
 * The tools a page can run: the catalog's declarations joined with their code by name.
 * Construction fails, listing every mismatch, when a declared tool has no code, code has no
 * declaration, a name is declared twice, a tool changes data without confirmation, or an
 * override would make a tool less safe.
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
    for (const spec of specs) {
      if (this.tools.has(spec.name)) {
        problems.push(`tool "${spec.name}" is declared twice`);
        continue;
      }
      const execute = Object.hasOwn(implementations, spec.name)
        ? implementations[spec.name]
        : undefined;
      if (typeof execute !== 'function') {
        problems.push(`tool "${spec.name}" is declared but has no implementation`);
        continue;
      }
      const override = Object.hasOwn(overrides, spec.name) ? overrides[spec.name] : undefined;
      this.tools.set(spec.name, { spec: applyOverride(spec, override, problems), execute });
    }
    const declared = new Set(specs.map((spec) => spec.name));
    for (const name of Object.keys(implementations)) {
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
