/**
 * The offline demo page: the widget with its conversation saved in IndexedDB, the service worker
 * that makes the page work with the server stopped, and URL switches for power users:
 * `?device=wasm|webgpu`, `?lang=en|zh`, `?theme=light|dark`, `?model=<id>`, `?dtype=<precision>`,
 * `?call-timeout-ms=<ms>`, `?model-replies=1` (the model writes the reply after a tool ran).
 * The demo configures no escalation endpoint (a conversation goes only where a host's code sends
 * it, never through a URL switch), so it says plainly that no hand-over is configured. The demo's
 * tools act on a shop kept in IndexedDB, seeded with demo orders; its agents answer from the
 * catalog's knowledge texts. Fault switches for tests live in the test harness page
 * (test/harness/), not here.
 */
import { startDemo } from './demo/app';

void startDemo();
