/**
 * The offline demo page: the widget with its conversation saved in IndexedDB, the service worker
 * that makes the page work with the server stopped, and URL switches for tests and power users:
 * `?device=wasm|webgpu`, `?lang=en|zh`, `?theme=light|dark`, `?model=<id>`,
 * `?simulate-webgpu-failure=fail-creation|lose-device` (tests of the WASM fallback),
 * `?test-storage-quota=<bytes>` (tests of the refused model cache).
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { WebGpuFailure } from '../workers/classifier.worker';
import { FenliuChat } from './embed/FenliuChat';
import { setUpOffline, type OfflineSetup } from './sw/register';
import { parseLanguage, parseTheme, strings } from './ui/i18n';

const params = new URLSearchParams(location.search);
const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
const base = new URL(import.meta.env.BASE_URL, location.href).href;

function webGpuFailure(value: string | null): WebGpuFailure | undefined {
  return value === 'fail-creation' || value === 'lose-device' ? value : undefined;
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
        persistKey="demo"
        {...(refused && {
          notice: `${strings(parseLanguage(language ?? document.documentElement.lang)).notPersisted} (${offline.plan?.reason ?? ''})`,
        })}
      />
    </StrictMode>,
  );
}

void start();
