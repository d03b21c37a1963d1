import { proxy, wrap, type Remote } from 'comlink';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ClassifierWorkerApi, WorkerLoadRequest } from '../../workers/classifier.worker';
import type { Classification } from '../core/classifier';
import type { ClassifierStatus } from '../core/lifecycle';
import { installErrorTransfer } from '../core/worker-errors';

installErrorTransfer();

/**
 * The only place that touches the worker: starts it, loads the model, and exposes `classify`.
 * The worker is terminated when the component using the hook unmounts.
 */
export function useClassifier(request: WorkerLoadRequest): {
  status: ClassifierStatus;
  classify: (text: string) => Promise<Classification>;
} {
  const [status, setStatus] = useState<ClassifierStatus>({ state: 'checking-device' });
  const remote = useRef<Remote<ClassifierWorkerApi> | null>(null);
  const { assetBase, modelId, device, dtype } = request;

  useEffect(() => {
    const worker = new Worker(new URL('../../workers/classifier.worker.ts', import.meta.url), {
      type: 'module',
      name: 'fenliu-classifier',
    });
    const api = wrap<ClassifierWorkerApi>(worker);
    remote.current = api;
    void api.load({ assetBase, modelId, device, dtype }, proxy(setStatus));
    return () => {
      remote.current = null;
      worker.terminate();
    };
  }, [assetBase, modelId, device, dtype]);

  const classify = useCallback(async (text: string) => {
    if (!remote.current) throw new Error('classifier worker is not running');
    return remote.current.classify(text);
  }, []);

  return { status, classify };
}
