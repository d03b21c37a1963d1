/**
 * The classifier's Web Worker: a transport only. It exposes `LocalClassifier`
 * (src/engine/local-classifier.ts) over comlink, through the request-id adapter in
 * workers/worker-api.ts; the page's side is `WorkerClassifier` (src/client/worker-classifier.ts).
 */
import { expose } from 'comlink';
import { installErrorTransfer } from '../src/engine/worker-errors';
import { createWorkerApi } from './worker-api';

installErrorTransfer();
expose(createWorkerApi());
