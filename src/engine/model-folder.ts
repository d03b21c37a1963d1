import { errorMessage, ModelLoadError } from '../shared/errors';
import { toolSpecProblems } from '../catalog/json-schema';
import type { ToolSpec } from '../catalog/tool-spec';
import { readModelText } from './runtime';

/**
 * `fenliu.json`, written beside `config.json` by the training pipeline: what a model folder answers
 * with and how it was prompted, so anyone with plain transformers.js can reproduce its answers.
 */
export interface ModelCard {
  format: 1;
  /** The labels the model was trained to answer with, in catalog order. */
  labels: string[];
  /**
   * Intent id for each label (same order as `labels`); `tool` names the tool in `tools` the
   * intent's answer calls, `escalate` marks an intent whose turns go to the escalation handler.
   */
  intents: { id: string; label: string; tool?: string; escalate?: boolean }[];
  /**
   * Tools the model was trained to call, as the catalog declared them (intents name them in
   * `tool`). Older cards have none: `parseModelCard` gives them `[]`.
   */
  tools?: ToolSpec[];
  /** Intent id used when an answer is not one of the labels. */
  fallbackIntent: string;
  /** The exact system message used in training, or null for none. */
  system: string | null;
  /** ONNX precisions present under `onnx/`, by transformers.js dtype name. */
  dtypes: string[];
  /** Free-form facts about the training run (sizes, accuracy, seed). */
  training?: Record<string, unknown>;
}

export async function readModelCard(modelId: string): Promise<ModelCard> {
  let text: string;
  try {
    text = await readModelText(modelId, 'fenliu.json');
  } catch (error) {
    throw new ModelLoadError(
      'model-folder-invalid',
      `Model folder "${modelId}" has no readable fenliu.json. Fix: export the model with ` +
        '`npm run train:demo` (or training/export.py), which writes it beside config.json.',
      { cause: error },
    );
  }
  return parseModelCard(text, modelId);
}

export function parseModelCard(text: string, modelId: string): ModelCard {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ModelLoadError(
      'model-folder-invalid',
      `${modelId}/fenliu.json is not valid JSON (${errorMessage(error)}). Fix: copy the folder ` +
        'again if it was cut short, or export it again (training/export.py and ' +
        'scripts/write-model-card.ts write it).',
      { cause: error },
    );
  }
  const card = value as Partial<ModelCard> | null;
  const problems: string[] = [];
  if (card?.format !== 1) problems.push('"format" must be 1');
  const labels = card?.labels;
  if (!Array.isArray(labels) || labels.length < 2 || !labels.every((l) => typeof l === 'string')) {
    problems.push('"labels" must list at least two strings');
  }
  const intents = card?.intents;
  if (
    !Array.isArray(intents) ||
    !Array.isArray(labels) ||
    intents.length !== labels.length ||
    intents.some((intent, index) => intent.label !== labels[index] || typeof intent.id !== 'string')
  ) {
    problems.push('"intents" must give an {id, label} for each label, in the same order');
  }
  const tools: unknown = card?.tools ?? [];
  const toolNames = new Set<string>();
  if (!Array.isArray(tools)) {
    problems.push('"tools" must be an array of tool declarations');
  } else {
    tools.forEach((spec: unknown, index) => {
      problems.push(...toolSpecProblems(spec, `"tools"[${index}]`));
      const name = (spec as { name?: unknown } | null)?.name;
      if (typeof name === 'string') toolNames.add(name);
    });
  }
  const listed: unknown[] = Array.isArray(intents) ? intents : [];
  for (const intent of listed) {
    if (typeof intent !== 'object' || intent === null) continue;
    const { id, tool, escalate } = intent as { id?: unknown; tool?: unknown; escalate?: unknown };
    if (tool !== undefined && (typeof tool !== 'string' || !toolNames.has(tool))) {
      problems.push(
        `intent ${JSON.stringify(id)} calls tool ${JSON.stringify(tool)}, which "tools" does not declare`,
      );
    }
    if (escalate !== undefined && typeof escalate !== 'boolean') {
      problems.push(`intent ${JSON.stringify(id)}: "escalate" must be true or false`);
    }
  }
  if (!intents?.some((intent) => intent.id === card?.fallbackIntent)) {
    problems.push('"fallbackIntent" must be one of the intent ids');
  }
  if (card?.system !== null && typeof card?.system !== 'string') {
    problems.push('"system" must be a string or null');
  }
  if (!Array.isArray(card?.dtypes) || card.dtypes.length === 0) {
    problems.push('"dtypes" must list the ONNX precisions shipped');
  }
  if (problems.length > 0) {
    throw new ModelLoadError(
      'model-folder-invalid',
      `${modelId}/fenliu.json: ${problems.join('; ')}. Fix: correct fenliu.json by hand, or ` +
        'export the folder again (training/export.py and scripts/write-model-card.ts write it).',
    );
  }
  return { ...(card as ModelCard), tools: Array.isArray(tools) ? (tools as ToolSpec[]) : [] };
}
