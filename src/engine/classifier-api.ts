import type { ProposedToolCall, Classification } from './classification';
import type { ModelReply, ToolTurn } from './classifier';
import type { ClassifierStatus } from './lifecycle';
import type { SerializedError } from '../shared/errors';

/**
 * The one classifier interface the router session talks to, with two transports: in-process
 * (`LocalClassifier`, src/engine/local-classifier.ts: Node, tests, the CLI, and the worker's own
 * side) and a Web Worker client that supervises the worker (`WorkerClassifier`,
 * src/client/worker-classifier.ts). Declarations only, so the main thread can import them
 * without the model runtime.
 */

/** Where a classifier stands, as subscribers see it. */
export interface ClassifierState {
  status: ClassifierStatus;
  /**
   * After an interrupted download: the load starts again when the browser is back online, in N
   * milliseconds, or only when asked (null).
   */
  autoRetry: 'when-online' | number | null;
  /** Why the worker was last replaced (crashed or hung), until the next call is answered. */
  restartedAfter: SerializedError | null;
}

export interface CallOptions {
  /** Aborting rejects the call at once with `AbortError`; the engine stops at its next step. */
  signal?: AbortSignal;
}

export interface Classifier {
  /** The current state; `subscribe` reports every change. */
  readonly state: ClassifierState;
  /** Calls `listener` with each new state; returns the function that stops it. */
  subscribe(listener: (state: ClassifierState) => void): () => void;
  /**
   * Probes the device, downloads and initializes the model, warms it up, reporting every step
   * as a status (`checking-device → downloading → initializing → warming-up → ready | error`).
   * Resolves with the status it settled in; never rejects. A second call while loading or ready
   * returns the same promise; after an error or `cancelLoad`, `retry` loads again.
   */
  load(): Promise<ClassifierStatus>;
  /** Loads again from the start (after an error, a cancelled or an interrupted download). */
  retry(): void;
  /** Stops a download or initialization in progress; the status becomes an `AbortError`. */
  cancelLoad(): void;
  /**
   * Classifies one message and, for a message routed to an intent bound to a tool, decodes the
   * call under the tool's schema (missing arguments listed, never invented).
   */
  classify(text: string, options?: CallOptions): Promise<Classification>;
  /** Decodes the call `intentId`'s tool gets for `text`; null when the intent has no tool. */
  decodeToolCall(
    text: string,
    intentId: string,
    options?: CallOptions,
  ): Promise<ProposedToolCall | null>;
  /** The model's own reply to a tool's result (the seed's second step). */
  writeReply(turn: ToolTurn, options?: CallOptions): Promise<ModelReply>;
  /** Frees the model (and the worker); later calls reject with `classifier-not-ready`. */
  dispose(): Promise<void>;
}
