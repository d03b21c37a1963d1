import { transferHandlers } from 'comlink';
import { deserializeError, serializeError, type SerializedError } from '../shared/errors';

/**
 * Replaces comlink's handler for thrown values so a `FenliuError` keeps its class and `code`
 * across the worker boundary (comlink's own handler keeps only name and message). Both sides
 * must call this before the first message.
 */
export function installErrorTransfer(): void {
  const builtin = transferHandlers.get('throw');
  if (!builtin) throw new Error("comlink has no 'throw' transfer handler");
  transferHandlers.set('throw', {
    canHandle: (value): value is unknown => builtin.canHandle(value),
    serialize: (thrown) => [serializeError((thrown as { value: unknown }).value), []],
    deserialize: (data) => {
      throw deserializeError(data as SerializedError);
    },
  });
}
