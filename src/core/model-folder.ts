import { ModelLoadError } from './errors';
import { readModelText } from './runtime';

/**
 * `fenliu.json`, written beside `config.json` by the training pipeline: what a model folder answers
 * with and how it was prompted, so anyone with plain transformers.js can reproduce its answers.
 */
export interface ModelCard {
  format: 1;
  /** The labels the model was trained to answer with, in catalog order. */
  labels: string[];
  /** Intent id for each label (same order as `labels`). */
  intents: { id: string; label: string }[];
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
    throw new ModelLoadError('model-folder-invalid', `${modelId}/fenliu.json is not valid JSON`, {
      cause: error,
    });
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
      `${modelId}/fenliu.json: ${problems.join('; ')}`,
    );
  }
  return card as ModelCard;
}
