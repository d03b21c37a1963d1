import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { WorkerClassifierOptions } from '../client/worker-classifier';
import { FenliuChat } from '../embed/FenliuChat';
import { createDemoTools } from '../tools/demo/tools';
import { templateReply } from '../tools/demo/replies';
import { demoShopStore } from '../tools/demo/store';
import { setUpOffline, type OfflineSetup } from '../sw/register';
import { parseLanguage, parseTheme, strings, type Language } from '../ui/i18n';
import { createDemoHandlers } from './handlers';
import { DemoPage } from './DemoPage';

/** What only the test harness page (test/harness/) sets: fault injection. */
export interface DemoTestSetup {
  /** Starts each classifier worker (a fault-injecting entry). */
  createWorker?: WorkerClassifierOptions['createWorker'];
  /** Use this storage quota instead of `navigator.storage.estimate()`'s. */
  quotaForTest?: number;
}

const params = new URLSearchParams(location.search);
const base = new URL(import.meta.env.BASE_URL, location.href).href;

const demoTools = createDemoTools(demoShopStore());
const demoHandlers = createDemoHandlers();

/** Renders the demo page into #root: the widget, the demo shop's tools and agents, offline use. */
export async function startDemo(testing: DemoTestSetup = {}): Promise<void> {
  const root = document.getElementById('root');
  if (!root) throw new Error('the page has no #root');
  // NOTE: the dev server has no built service worker; offline use is a property of the build.
  const { quotaForTest, createWorker } = testing;
  const offline: OfflineSetup = import.meta.env.PROD
    ? await setUpOffline(base, quotaForTest !== undefined ? { quotaForTest } : {})
    : { plan: null, problem: 'development server' };
  document.documentElement.dataset.offline = offline.plan?.cacheModel
    ? 'model-cached'
    : offline.plan
      ? 'model-in-memory'
      : 'unavailable';
  const device = params.get('device');
  const language = params.get('lang');
  const theme = params.get('theme');
  const callTimeoutMs = Number(params.get('call-timeout-ms') ?? NaN);
  const refused = offline.plan && !offline.plan.cacheModel;
  const pageLanguage = parseLanguage(language ?? document.documentElement.lang);
  // The customer reads that the model runs from memory; why the browser refused is the developer's.
  if (refused) console.info(`fenliu: offline caching refused: ${offline.plan?.reason ?? ''}`);
  createRoot(root).render(
    <StrictMode>
      <DemoPage initialInspect={params.get('inspect') === '1'} language={pageLanguage}>
        {(inspect) => (
          <FenliuChat
            layout="launcher"
            defaultOpen
            inspect={inspect}
            modelUrl={`models/${params.get('model') ?? 'fenliu-demo'}/`}
            catalogUrl="catalog.json"
            baseUrl={base}
            device={device === 'wasm' || device === 'webgpu' ? device : 'auto'}
            {...(language !== null && { language: parseLanguage(language) })}
            {...(theme !== null && { theme: parseTheme(theme) })}
            {...(createWorker && { createWorker })}
            {...(params.get('dtype') !== null && { dtype: params.get('dtype') ?? '' })}
            {...(callTimeoutMs > 0 && { callTimeoutMs })}
            persistKey="demo"
            // The service worker caches the model (or, refused, the page runs from memory).
            browserCache={false}
            tools={demoTools}
            handlers={demoHandlers}
            toolReply={templateReply}
            modelReplies={params.get('model-replies') === '1'}
            // NOTE: no escalation handler, and no URL switch for one: a link must never be able to
            // send the saved conversation to an address of its choosing. Hosts configure a handler
            // in their own code (examples/custom-element); the demo says nothing is sent anywhere.
            {...(refused && {
              notice: (shown: Language) => strings(shown).notPersisted,
            })}
          />
        )}
      </DemoPage>
    </StrictMode>,
  );
}
