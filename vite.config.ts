import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

/**
 * Cross-origin isolation (COOP + COEP) lets onnxruntime-web's WASM backend use threads; the
 * headers are sent by the dev server and by `vite preview`, which serves the demo.
 */
const crossOriginIsolation = {
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

export default defineConfig({
  plugins: [react(), uncompressedModelFiles()],
  server: { headers: crossOriginIsolation },
  preview: { headers: crossOriginIsolation, port: 4173 },
  worker: { format: 'es' },
  build: { target: 'es2022' },
  optimizeDeps: { exclude: ['@huggingface/transformers'] },
});
