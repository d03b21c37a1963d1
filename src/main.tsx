import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import './ui/styles.css';

const params = new URLSearchParams(location.search);
const device = params.get('device');
const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');

createRoot(root).render(
  <StrictMode>
    <App
      assetBase={new URL(import.meta.env.BASE_URL, location.href).href}
      modelId={params.get('model') ?? 'fenliu-demo'}
      device={device === 'wasm' || device === 'webgpu' ? device : 'auto'}
      initialLanguage={params.get('lang') === 'en' ? 'en' : 'zh'}
    />
  </StrictMode>,
);
