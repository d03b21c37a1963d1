/**
 * The offline demo page: the widget with its conversation saved in IndexedDB, the service worker
 * that makes the page work with the server stopped, and URL switches for tests and power users:
 * `?device=wasm|webgpu`, `?lang=en|zh`, `?theme=light|dark`, `?model=<id>`,
 * `?simulate-webgpu-failure=fail-creation|lose-device` (tests of the WASM fallback),
 * `?dtype=<precision>`, `?simulate-fault=crash|hang` and `?call-timeout-ms=<ms>` (tests of the worker's restart),
 * `?test-storage-quota=<bytes>` (tests of the refused model cache), `?model-replies=1` (the model
 * writes the reply after a tool ran), `?escalation-url=<chat-completions URL>&escalation-model=<id>`
 * (hand-overs go to that OpenAI-compatible endpoint; without them the page says no hand-over is
 * configured). The demo's tools act on a shop kept in IndexedDB, seeded with demo orders.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { WebGpuFailure, WorkerFault } from './engine/worker-protocol';
import { FenliuChat } from './embed/FenliuChat';
import type { EscalationConfig } from './escalation/types';
import { createDemoTools } from './tools/demo/tools';
import { templateReply } from './tools/demo/replies';
import { demoShopStore } from './tools/demo/store';
import { setUpOffline, type OfflineSetup } from './sw/register';
import { parseLanguage, parseTheme, strings } from './ui/i18n';

const params = new URLSearchParams(location.search);
const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
const base = new URL(import.meta.env.BASE_URL, location.href).href;

const demoTools = createDemoTools(demoShopStore());

function escalationFromUrl(): EscalationConfig | null {
  const url = params.get('escalation-url');
  const model = params.get('escalation-model');
  return url && model ? { kind: 'chat-completions', url, model } : null;
}

function webGpuFailure(value: string | null): WebGpuFailure | undefined {
  return value === 'fail-creation' || value === 'lose-device' ? value : undefined;
}

function workerFault(value: string | null): WorkerFault | undefined {
  return value === 'crash' || value === 'hang' ? value : undefined;
}

async function start(): Promise<void> {
  // NOTE: the dev server has no built service worker; offline use is a property of the build.
  const quotaForTest = Number(params.get('test-storage-quota') ?? NaN);
  const offline: OfflineSetup = import.meta.env.PROD
    ? await setUpOffline(base, Number.isFinite(quotaForTest) ? { quotaForTest } : {})
    : { plan: null, problem: 'development server' };
  document.documentElement.dataset.offline = offline.plan?.cacheModel
    ? 'model-cached'
    : offline.plan
      ? 'model-in-memory'
      : 'unavailable';
  const device = params.get('device');
  const language = params.get('lang');
  const theme = params.get('theme');
  const simulate = webGpuFailure(params.get('simulate-webgpu-failure'));
  const fault = workerFault(params.get('simulate-fault'));
  const callTimeoutMs = Number(params.get('call-timeout-ms') ?? NaN);
  const refused = offline.plan && !offline.plan.cacheModel;
  createRoot(root as HTMLElement).render(
    <StrictMode>
      <FenliuChat
        modelUrl={`models/${params.get('model') ?? 'fenliu-demo'}/`}
        catalogUrl="catalog.json"
        baseUrl={base}
        device={device === 'wasm' || device === 'webgpu' ? device : 'auto'}
        {...(language !== null && { language: parseLanguage(language) })}
        {...(theme !== null && { theme: parseTheme(theme) })}
        {...(simulate !== undefined && { simulateWebGpuFailure: simulate })}
        {...(fault !== undefined && { simulateFault: fault })}
        {...(params.get('dtype') !== null && { dtype: params.get('dtype') ?? '' })}
        {...(callTimeoutMs > 0 && { callTimeoutMs })}
        persistKey="demo"
        // The service worker caches the model (or, refused, the page runs from memory).
        browserCache={false}
        tools={demoTools}
        toolReply={templateReply}
        modelReplies={params.get('model-replies') === '1'}
        escalation={escalationFromUrl()}
        {...(refused && {
          notice: `${strings(parseLanguage(language ?? document.documentElement.lang)).notPersisted} (${offline.plan?.reason ?? ''})`,
        })}
      />
    </StrictMode>,
  );
}

void start();
