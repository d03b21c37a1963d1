/** Loading a model folder, a calibration file and a data file named on the command line. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataType } from '@huggingface/transformers';
import { calibrationProblems, type Calibration } from '../engine/classification';
import { IntentClassifier } from '../engine/classifier';
import { parseDataset, toolCallIssues, type LabelledExample } from '../dataset/dataset';
import { expectedIntents } from '../evaluation/evaluate';
import {
  DataValidationError,
  ModelLoadError,
  errorMessage,
  type SourceIssue,
} from '../shared/errors';
import { checkDocument, parseJson } from '../shared/validation';
import { readModelCard, type ModelCard } from '../engine/model-folder';
import { configureRuntime } from '../engine/runtime';
import { CliError } from './options';

/** The committed demo model, found from this file so the CLI works from any directory. */
export const DEFAULT_MODEL_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'public',
  'models',
  'fenliu-demo',
);

/** A model folder path split into the runtime's model root and model id. */
export interface ModelFolder {
  /** Absolute path. */
  path: string;
  modelId: string;
}

/**
 * Points the runtime at the folder's parent and reads its model card. Throws `CliError` when the
 * folder does not exist and `ModelLoadError` when its `fenliu.json` is missing or invalid.
 * A relative `dir` is resolved from `cwd`.
 */
export async function openModelFolder(
  dir: string | undefined,
  cwd: string,
): Promise<{ folder: ModelFolder; card: ModelCard }> {
  const path = resolve(cwd, dir ?? DEFAULT_MODEL_DIR);
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw new CliError(`--model ${dir ?? path}: no such folder`);
  }
  configureRuntime({ modelRoot: dirname(path) });
  const modelId = basename(path);
  return { folder: { path, modelId }, card: await readModelCard(modelId) };
}

/**
 * The calibration named by `--calibration` (relative to `cwd`): `undefined` (flag absent: the
 * classifier reads the folder's `calibration.json` if any), `null` for `none`, or the validated
 * file.
 */
export function readCalibrationFlag(
  value: string | undefined,
  cwd: string,
): Calibration | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'none') return null;
  // NOTE: read first, outside parseJson, so a missing file stays the CLI's own usage error.
  const text = readText(value, '--calibration', cwd);
  const parsed = parseJson(
    text,
    (error) =>
      new ModelLoadError('model-folder-invalid', `${value} is not valid JSON`, { cause: error }),
  );
  return checkDocument<Calibration>(
    parsed,
    calibrationProblems,
    (problems) => new ModelLoadError('model-folder-invalid', `${value}: ${problems.join('; ')}`),
  );
}

/** Loads the classifier for a folder opened with `openModelFolder`, on onnxruntime-node. */
export function loadClassifier(
  folder: ModelFolder,
  options: { dtype?: string; calibration?: Calibration | null; signal?: AbortSignal },
): Promise<IntentClassifier> {
  return IntentClassifier.load({
    modelId: folder.modelId,
    device: 'cpu',
    // The model card lists the dtypes a folder ships; the classifier rejects any other.
    dtype: options.dtype as DataType | undefined,
    calibration: options.calibration,
    signal: options.signal,
  });
}

/**
 * Reads and parses a labelled data file (relative to `cwd`); bad rows throw `DataValidationError`
 * with `file:line`, the file named as given.
 */
export function readDataFile(path: string, cwd: string): LabelledExample[] {
  return parseDataset(readText(path, '--data', cwd), path);
}

/**
 * The intent id each row is labelled with, after checking the rows against the model card: every
 * label must be one of its intents (label or id), and every tool call must name the tool of the
 * row's intent, declared in the card, with arguments its schema accepts. Throws one
 * `DataValidationError` listing every bad row as `file:line`, before the model loads, rather than
 * scoring rows that test nothing the model can do.
 */
export function checkRows(examples: readonly LabelledExample[], card: ModelCard): string[] {
  let labelIssues: readonly SourceIssue[] = [];
  let expected: string[] = [];
  try {
    expected = expectedIntents(examples, card.intents);
  } catch (error) {
    if (!(error instanceof DataValidationError)) throw error;
    labelIssues = error.issues;
  }
  const issues = [...labelIssues, ...toolCallIssues(examples, card)];
  if (issues.length > 0) {
    throw new DataValidationError(
      'dataset-invalid',
      issues.sort((a, b) => a.line - b.line),
    );
  }
  return expected;
}

function readText(path: string, flag: string, cwd: string): string {
  try {
    return readFileSync(resolve(cwd, path), 'utf8');
  } catch (error) {
    throw new CliError(`${flag} ${path}: cannot read (${errorMessage(error)})`, { cause: error });
  }
}

/** The folder's `calibration.json`, validated, or null when it has none. */
export function readCalibrationIfPresent(folder: ModelFolder): Calibration | null {
  const path = join(folder.path, 'calibration.json');
  return existsSync(path) ? (readCalibrationFlag(path, folder.path) ?? null) : null;
}
