/**
 * A React host app embedding the widget as a component. In an app of your own, import
 * `FenliuChat` from the built `embed/react/fenliu-react.js` (React is a peer dependency); this
 * example imports the source so the demo build can serve it.
 */
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { FenliuChat, type EscalationEvent } from '../../src/embed/react';

function HostApp() {
  const [escalations, setEscalations] = useState<EscalationEvent[]>([]);
  return (
    <>
      <FenliuChat
        modelUrl="/models/fenliu-demo/"
        catalogUrl="/catalog.json"
        language="en"
        onEscalate={(event) => {
          setEscalations((previous) => [...previous, event]);
        }}
      />
      <h2>Escalations handed to the host</h2>
      <ul id="escalations">
        {escalations.map((event, index) => (
          <li key={index}>
            {event.text} → {event.classification.label}
          </li>
        ))}
      </ul>
    </>
  );
}

const app = document.getElementById('app');
if (!app) throw new Error('no #app element');
createRoot(app).render(
  <StrictMode>
    <HostApp />
  </StrictMode>,
);
