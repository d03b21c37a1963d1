import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * Cross-origin isolation (COOP + COEP) lets onnxruntime-web's WASM backend use threads; the
 * headers are sent by the dev server and by `vite preview`, which serves the demo.
 */
const crossOriginIsolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [react()],
  server: { headers: crossOriginIsolation },
  preview: { headers: crossOriginIsolation, port: 4173 },
  worker: { format: 'es' },
  build: { target: 'es2022' },
  optimizeDeps: { exclude: ['@huggingface/transformers'] },
});
