import react from '@vitejs/plugin-react';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, defineConfig, type InlineConfig, type Plugin } from 'vite';

const ROOT = dirname(fileURLToPath(import.meta.url));
const DIST = join(ROOT, 'dist');

/**
 * Cross-origin isolation (COOP + COEP) lets onnxruntime-web's WASM backend use threads; the
 * headers are sent by the dev server and by `vite preview`, which serves the demo.
 */
export const crossOriginIsolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * `vite preview` gzips responses on the fly, which drops Content-Length; transformers.js then
 * cannot report a download's total and the progress bar has nothing to fill. Model and runtime
 * files are served as they are.
 */
function uncompressedModelFiles(): Plugin {
  return {
    name: 'fenliu:uncompressed-model-files',
    configurePreviewServer(server) {
      server.middlewares.use((request, _response, next) => {
        if (request.url?.startsWith('/models/') || request.url?.startsWith('/ort/')) {
          delete request.headers['accept-encoding'];
        }
        next();
      });
    },
  };
}

/**
 * onnxruntime-web's bundle names its wasm binary with `new URL(…, import.meta.url)`, so Vite
 * emits a second, hashed 27 MB copy that nothing loads: the worker always sets `wasmPaths` to the
 * copy in /ort/ (scripts/link-assets.ts). Resolving that default against the worker's location
 * instead keeps the code path and drops the asset.
 */
export function ortWasmAssetFix(): Plugin {
  const pattern = /new URL\("(ort-wasm[^"]*\.wasm)",import\.meta\.url\)/g;
  return {
    name: 'fenliu:ort-wasm-asset-fix',
    enforce: 'pre',
    transform(code, id) {
      if (!id.includes('onnxruntime-web') || !pattern.test(code)) return null;
      return { code: code.replace(pattern, 'new URL("$1",self.location.href)'), map: null };
    },
  };
}

/**
 * The shape of `precache.json` (src/sw/manifest.ts's `PrecacheManifest`; restated here because
 * tsconfig.node.json, which checks this file, does not include src/sw).
 */
interface PrecacheManifest {
  format: 1;
  shellVersion: string;
  modelVersion: string;
  shell: string[];
  model: { url: string; bytes: number }[];
}

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    return entry.isDirectory() ? filesUnder(path) : entry.isFile() ? [path] : [];
  });
}

/**
 * Emits dist/catalog.json (the demo catalog) and dist/precache.json (what the service worker
 * caches), and builds src/sw/sw.ts to dist/sw.js with the shell version baked in, so every
 * change to the shell installs a new service worker.
 */
function offlineDemo(): Plugin {
  const catalog = join(ROOT, 'data', 'demo', 'catalog.json');
  return {
    name: 'fenliu:offline-demo',
    configureServer(server) {
      server.middlewares.use('/catalog.json', (_request, response) => {
        response.setHeader('Content-Type', 'application/json');
        response.end(readFileSync(catalog));
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'catalog.json', source: readFileSync(catalog) });
    },
    // NOTE: writeBundle, not generateBundle: the HTML pages join the bundle after other plugins'
    // generateBundle hooks, and the shell list must include them.
    writeBundle(options, bundle) {
      const outDir = options.dir ?? DIST;
      const shellHash = createHash('sha256');
      const shell: string[] = [];
      const files = Object.entries(bundle).sort(([a], [b]) => a.localeCompare(b));
      for (const [fileName, output] of files) {
        if (fileName === 'sw.js' || fileName.endsWith('.map')) continue;
        shellHash.update(fileName);
        shellHash.update(output.type === 'chunk' ? output.code : output.source);
        shell.push(fileName === 'index.html' ? './' : fileName.replace(/index\.html$/, ''));
      }
      const publicDir = join(ROOT, 'public');
      const modelHash = createHash('sha256');
      const model = ['models', 'ort']
        .flatMap((folder) => filesUnder(join(publicDir, folder)))
        .sort()
        .map((path) => {
          const url = relative(publicDir, path).split('\\').join('/');
          const { size, mtimeMs } = statSync(path);
          modelHash.update(`${url}:${size}:${mtimeMs}`);
          return { url, bytes: size };
        });
      const manifest: PrecacheManifest = {
        format: 1,
        shellVersion: shellHash.digest('hex').slice(0, 16),
        modelVersion: modelHash.digest('hex').slice(0, 16),
        shell,
        model,
      };
      writeFileSync(join(outDir, 'precache.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      const swPath = join(outDir, 'sw.js');
      const sw = readFileSync(swPath, 'utf8');
      if (!sw.includes('__FENLIU_BUILD__')) throw new Error('sw.js has no __FENLIU_BUILD__ marker');
      if (/^\s*import[\s{]/m.test(sw)) throw new Error('sw.js must not import other chunks');
      writeFileSync(
        swPath,
        sw.replaceAll('__FENLIU_BUILD__', JSON.stringify(manifest.shellVersion)),
      );
    },
  };
}

/**
 * The library builds:
 * - `script-tag`: dist/embed/fenliu-chat.js, React included, registers `<fenliu-chat>`;
 * - `react`: dist/embed/react/fenliu-react.js, the `FenliuChat` component, React external (a peer
 *   dependency of the host);
 * - `router`: dist/embed/router/fenliu-router.js, the headless router (`createRouter`, no UI and
 *   no React) for a host's own chat UI.
 * Each loads the classifier worker from its own chunk beside it.
 */
export type EmbedTarget = 'script-tag' | 'react' | 'router';

const EMBED_TARGETS: Readonly<
  Record<EmbedTarget, { entry: string[]; folder: string[]; fileName: string }>
> = {
  'script-tag': { entry: ['embed', 'script-tag.ts'], folder: [], fileName: 'fenliu-chat.js' },
  react: { entry: ['embed', 'react.ts'], folder: ['react'], fileName: 'fenliu-react.js' },
  router: { entry: ['router', 'index.ts'], folder: ['router'], fileName: 'fenliu-router.js' },
};

export function embedConfig(target: EmbedTarget): InlineConfig {
  const forReact = target === 'react';
  const { entry, folder, fileName } = EMBED_TARGETS[target];
  return {
    configFile: false,
    root: ROOT,
    // NOTE: relative URLs: the worker chunk is found beside the bundle, wherever a host serves it.
    base: './',
    logLevel: 'warn',
    // NOTE: the headless router has no JSX and no React; React's plugin has nothing to do there.
    plugins: target === 'router' ? [ortWasmAssetFix()] : [react(), ortWasmAssetFix()],
    publicDir: false,
    // NOTE: library builds leave process.env.NODE_ENV alone; React would ship its dev build.
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    worker: { format: 'es', plugins: () => [ortWasmAssetFix()] },
    build: {
      target: 'es2022',
      outDir: join(DIST, 'embed', ...folder),
      emptyOutDir: true,
      copyPublicDir: false,
      lib: {
        entry: join(ROOT, 'src', ...entry),
        formats: ['es'],
        fileName: () => fileName,
      },
      rolldownOptions: {
        external: forReact ? [/^react($|\/)/, /^react-dom($|\/)/] : [],
      },
    },
  };
}

/**
 * After the demo build, builds the embeddable widget and the headless router (`embedConfig`) into
 * dist/embed/ and copies the static example host pages, so one `vite build` produces everything
 * the e2e tests serve.
 */
function embedBuilds(): Plugin {
  return {
    name: 'fenliu:embed-builds',
    apply: 'build',
    async closeBundle() {
      // NOTE: script-tag first: emptying its outDir, dist/embed/, empties the others' folders too.
      for (const target of ['script-tag', 'react', 'router'] as const) {
        await build(embedConfig(target));
      }
      for (const example of ['custom-element', 'script-tag', 'csp', 'headless', 'agents']) {
        const target = join(DIST, 'examples', example);
        mkdirSync(target, { recursive: true });
        // NOTE: every file: the strict-CSP page's script and stylesheet are files beside it.
        for (const file of readdirSync(join(ROOT, 'examples', example))) {
          copyFileSync(join(ROOT, 'examples', example, file), join(target, file));
        }
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), ortWasmAssetFix(), uncompressedModelFiles(), offlineDemo(), embedBuilds()],
  // NOTE: no SPA fallback: a missing file (e.g. an optional calibration.json) must be a 404, not
  // index.html with status 200.
  appType: 'mpa',
  server: { headers: crossOriginIsolation },
  preview: { headers: crossOriginIsolation, port: 4173 },
  worker: { format: 'es', plugins: () => [ortWasmAssetFix()] },
  build: {
    target: 'es2022',
    rolldownOptions: {
      input: {
        index: join(ROOT, 'index.html'),
        'examples-react': join(ROOT, 'examples', 'react', 'index.html'),
        // The demo page with fault switches, for the e2e tests (test/harness/).
        'test-harness': join(ROOT, 'test', 'harness', 'index.html'),
        sw: join(ROOT, 'src', 'sw', 'sw.ts'),
      },
      output: {
        // NOTE: the service worker must keep a fixed URL (a new URL would be a second worker).
        entryFileNames: (chunk) => (chunk.name === 'sw' ? 'sw.js' : 'assets/[name]-[hash].js'),
      },
    },
  },
  optimizeDeps: { exclude: ['@huggingface/transformers'] },
});
