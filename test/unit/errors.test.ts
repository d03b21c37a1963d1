import { describe, expect, it } from 'vitest';
import {
  AbortError,
  DataValidationError,
  deserializeError,
  FenliuError,
  InputError,
  ModelLoadError,
  serializeError,
} from '../../src/shared/errors';

describe('errors across a worker boundary', () => {
  it.each([
    new InputError('The message is empty.'),
    new AbortError(),
    new ModelLoadError('model-folder-invalid', 'no fenliu.json'),
    new DataValidationError('dataset-invalid', [{ file: 'a.jsonl', line: 3, reason: 'bad' }]),
  ])('rebuilds $name with its class, code and message', (original) => {
    // structuredClone is what postMessage does to the serialized form.
    const rebuilt = deserializeError(structuredClone(serializeError(original)));
    expect(rebuilt).toBeInstanceOf(original.constructor);
    expect(rebuilt).toBeInstanceOf(FenliuError);
    expect(rebuilt).toHaveProperty('code', original.code);
    expect(rebuilt.message).toBe(original.message);
  });

  it('turns anything else into a plain internal error', () => {
    expect(serializeError(new TypeError('boom'))).toEqual({
      name: 'Error',
      code: 'internal',
      message: 'boom',
    });
    expect(serializeError('text')).toMatchObject({ code: 'internal', message: 'text' });
  });
});
