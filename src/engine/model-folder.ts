import { type BindingProblem, checkToolBindings } from '../catalog/catalog';
import { toolListProblems } from '../catalog/tool-declarations';
import type { ToolSpec } from '../catalog/types';
import { errorMessage, ModelLoadError } from '../shared/errors';
import { checkDocument, isRecord, isStringArray, parseJson } from '../shared/validation';
import { canariesProblems, type ModelCanaries } from './canary';
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
  /**
   * Messages with their token ids and label distributions at export, checked at every load
   * (src/engine/canary.ts). Older cards have none: they load unverified.
   */
  canaries?: ModelCanaries;
}

/**
 * The text of a file every model folder has, or `model-folder-invalid` saying it is missing and
 * how to `fix` that.
 */
export async function readFolderFile(modelId: string, file: string, fix: string): Promise<string> {
  try {
    return await readModelText(modelId, file);
  } catch (error) {
    throw new ModelLoadError(
      'model-folder-invalid',
      `Model folder "${modelId}" has no readable ${file}. ${fix}`,
      { cause: error },
    );
  }
}

export async function readModelCard(modelId: string): Promise<ModelCard> {
  const fix =
    'Fix: export the model with `npm run train:demo` (or training/export.py), which writes it ' +
    'beside config.json.';
  return parseModelCard(await readFolderFile(modelId, 'fenliu.json', fix), modelId);
}

export function parseModelCard(text: string, modelId: string): ModelCard {
  const value = parseJson(
    text,
    (error) =>
      new ModelLoadError(
        'model-folder-invalid',
        `${modelId}/fenliu.json is not valid JSON (${errorMessage(error)}). Fix: copy the folder ` +
          'again if it was cut short, or export it again (training/export.py and ' +
          'scripts/write-model-card.ts write it).',
        { cause: error },
      ),
  );
  const card = checkDocument<ModelCard>(
    value,
    modelCardProblems,
    (problems) =>
      new ModelLoadError(
        'model-folder-invalid',
        `${modelId}/fenliu.json: ${problems.join('; ')}. Fix: correct fenliu.json by hand, or ` +
          'export the folder again (training/export.py and scripts/write-model-card.ts write it).',
      ),
  );
  return { ...card, tools: card.tools ?? [] };
}

/** How a model card words a binding problem, naming the intent by its id. */
const BINDING_PROBLEMS: Record<BindingProblem, (intent: Record<string, unknown>) => string> = {
  'unknown-tool': ({ id, tool }) =>
    `intent ${JSON.stringify(id)} calls tool ${JSON.stringify(tool)}, which "tools" does not declare`,
  'tool-and-escalate': ({ id }) =>
    `intent ${JSON.stringify(id)} cannot both call a tool and escalate`,
  'escalate-not-boolean': ({ id }) =>
    `intent ${JSON.stringify(id)}: "escalate" must be true or false`,
};

/** Every problem of a parsed `fenliu.json` (see src/shared/validation.ts); empty when valid. */
export function modelCardProblems(value: unknown): string[] {
  const card = isRecord(value) ? value : {};
  const problems: string[] = [];
  if (card.format !== 1) problems.push('"format" must be 1');
  const { labels, intents } = card;
  if (!isStringArray(labels) || labels.length < 2) {
    problems.push('"labels" must list at least two strings');
  }
  const listed: unknown[] = Array.isArray(intents) ? intents : [];
  if (
    !Array.isArray(intents) ||
    !Array.isArray(labels) ||
    intents.length !== labels.length ||
    listed.some(
      (intent, index) =>
        !isRecord(intent) || intent.label !== labels[index] || typeof intent.id !== 'string',
    )
  ) {
    problems.push('"intents" must give an {id, label} for each label, in the same order');
  }
  // NOTE: cards written before tools existed have none.
  const tools = toolListProblems(card.tools ?? [], '"tools"');
  problems.push(...tools.problems);
  checkToolBindings(listed, tools.names, (problem, intent) => {
    problems.push(BINDING_PROBLEMS[problem](intent));
  });
  if (!listed.some((intent) => isRecord(intent) && intent.id === card.fallbackIntent)) {
    problems.push('"fallbackIntent" must be one of the intent ids');
  }
  if (card.system !== null && typeof card.system !== 'string') {
    problems.push('"system" must be a string or null');
  }
  if (!Array.isArray(card.dtypes) || card.dtypes.length === 0) {
    problems.push('"dtypes" must list the ONNX precisions shipped');
  }
  // NOTE: whether the canaries' labels are the card's is a load-time check with its own error
  // code (model-labels-mismatch); here only their shape.
  if (card.canaries !== undefined) problems.push(...canariesProblems(card.canaries));
  return problems;
}
