import type { Classification, ProposedToolCall } from './classification';
import type { ModelReply, ToolTurn } from './classifier';
import type { DevicePreference, DeviceReason } from './device';
import type { ClassifierStatus } from './lifecycle';

/**
 * What the classifier's Web Worker (workers/classifier.worker.ts) and its client
 * (src/client/worker-classifier.ts) say to each other over comlink. Declarations only: the worker
 * implements `ClassifierWorkerApi`, the client imports these types and never the worker itself.
 */

/** Where the model and the runtime files are served from (same origin as the page). */
export interface ModelLocation {
  /** Absolute URL of the folder holding model folders, e.g. `https://shop.example/models/`. */
  modelBase: string;
  modelId: string;
  /** Absolute URL of the folder holding onnxruntime-web's `.mjs`/`.wasm` files. */
  ortBase: string;
}

export interface WorkerLoadRequest extends ModelLocation {
  device: DevicePreference;
  /** A precision the model ships; default: the best one for the device (see `chooseDtype`). */
  dtype?: string;
  /**
   * Set when an earlier worker's WebGPU session creation failed (how, as a `DeviceReason`): this
   * worker loads on WASM, continuing that worker's lifecycle (no new probe or download status).
   */
  fallbackFrom?: DeviceReason;
  /** transformers.js's own file cache (see `RuntimeOptions.browserCache`); default on. */
  browserCache?: boolean;
}

/**
 * How `load` ended: with a final status, or asking for a fresh worker on WASM because WebGPU
 * session creation failed. NOTE: transformers.js chains every session creation in a worker
 * behind the previous one, so after one rejected creation all later ones reject with the same
 * error; only a new worker can create the WASM session.
 */
export type LoadOutcome =
  | { kind: 'settled'; status: ClassifierStatus }
  | { kind: 'restart-on-wasm'; reasonCode: DeviceReason };

/** What the worker exposes. */
export interface ClassifierWorkerApi {
  /**
   * Probes the device, downloads and initializes the model, warms it up and reports every step
   * through `onStatus` (also later: a lost WebGPU device reports the switch to WASM). Resolves
   * with the final status; never rejects (failures become an `error` status with a stable code).
   */
  load(
    request: WorkerLoadRequest,
    onStatus: (status: ClassifierStatus) => void,
  ): Promise<LoadOutcome>;
  /**
   * Classifies one message. `requestId` lets `cancel(requestId)` abort it (an AbortSignal cannot
   * cross the worker boundary). Waits for a WASM switch in progress; a WebGPU failure during the
   * call switches to WASM and runs the message again there.
   */
  classify(text: string, requestId: number): Promise<Classification>;
  /** Decodes the call `intentId`'s tool gets for `text` (null: no tool); cancellable likewise. */
  decodeToolCall(
    text: string,
    intentId: string,
    requestId: number,
  ): Promise<ProposedToolCall | null>;
  /**
   * The model's reply to a tool's result (the seed's second step). Cancellable like `classify`
   * with `cancel(requestId)`.
   */
  writeReply(turn: ToolTurn, requestId: number): Promise<ModelReply>;
  /** Aborts the call started with `requestId` (a no-op once it has finished). */
  cancel(requestId: number): void;
  /**
   * Answers at once: the client's heartbeat. A worker answers it only between tasks, so silence
   * while a call runs means nothing (see `WorkerClassifier`'s liveness rule).
   */
  ping(): void;
  /**
   * Takes the Web Lock `name` and holds it for as long as this worker lives; resolves `true` once
   * it is held, `false` where the worker has no Web Locks (an insecure context, an old browser).
   * The browser releases the lock when the worker's context ends however it ends — `self.close()`,
   * killed for memory, terminated — even in the middle of a computation, so the client, queued
   * for the same lock, is granted it exactly when the worker is gone.
   */
  holdLifeline(name: string): Promise<boolean>;
}
