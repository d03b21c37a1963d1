/**
 * A React host app embedding the widget as a component. In an app of your own, import
 * `FenliuChat` from the built `embed/react/fenliu-react.js` (React is a peer dependency); this
 * example imports the source so the demo build can serve it.
 */
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { FenliuChat, type EscalationEvent, type RouteHandler } from '../../src/embed/react';

/** The handlers the demo catalog's routes name: two agents and the service desk. */
const handlers: Record<string, RouteHandler> = {
  billing: { kind: 'agent', respond: ({ knowledge }) => Promise.resolve(firstLine(knowledge)) },
  accounts: { kind: 'agent', respond: ({ knowledge }) => Promise.resolve(firstLine(knowledge)) },
  service_desk: {
    kind: 'human',
    onHandoff: ({ queue, language }) =>
      Promise.resolve({
        message: language === 'zh' ? '已转给客服团队处理。' : `Passed to the ${queue} queue.`,
      }),
  },
};

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

function HostApp() {
  const [escalations, setEscalations] = useState<EscalationEvent[]>([]);
  const [routes, setRoutes] = useState<string[]>([]);
  return (
    <>
      <FenliuChat
        modelUrl="/models/fenliu-demo/"
        catalogUrl="/catalog.json"
        language="en"
        handlers={handlers}
        onEscalate={(event) => {
          setEscalations((previous) => [...previous, event]);
        }}
        // Every session event has its callback; the host routes on these.
        onRoute={(route) => {
          const target = route.kind === 'escalation' ? undefined : (route.handler ?? route.tool);
          const where = target ? ` (${target})` : '';
          setRoutes((previous) => [...previous, `${route.intentId} → ${route.kind}${where}`]);
        }}
      />
      <h2>Routes the host heard</h2>
      <ul id="routes">
        {routes.map((route, index) => (
          <li key={index}>{route}</li>
        ))}
      </ul>
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
