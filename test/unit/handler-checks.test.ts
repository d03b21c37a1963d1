import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateCatalog } from '../../src/catalog/catalog';
import { LocalClassifier } from '../../src/engine/local-classifier';
import { createRouter } from '../../src/router/create-router';
import { checkHandlers } from '../../src/router/handler-checks';
import { DataValidationError } from '../../src/shared/errors';
import { DEMO_DATA } from '../../scripts/lib/paths';

const catalog = validateCatalog(JSON.parse(readFileSync(join(DEMO_DATA, 'catalog.json'), 'utf8')));
const answer = () => Promise.resolve('');

describe('checkHandlers', () => {
  it('accepts each kind with its function, and an agent endpoint', () => {
    const handlers = {
      billing: { kind: 'agent', respond: answer },
      accounts: { kind: 'agent', url: 'https://llm.example/v1/chat/completions', model: 'm' },
      service_desk: { kind: 'human', onHandoff: () => Promise.resolve({}) },
      shipping_desk: { kind: 'host', onRoute: () => Promise.resolve({}) },
    };
    expect(checkHandlers(handlers)).toEqual({ handlers, problems: [] });
  });

  it('names every handler of the wrong shape', () => {
    const { problems } = checkHandlers({
      billing: { kind: 'agent', respond: 'not a function' },
      accounts: { kind: 'agent' },
      service_desk: { kind: 'human', onHandoff: 42 },
      shipping_desk: { kind: 'robot' },
      nothing: null,
    });
    expect(problems).toEqual([
      'handlers.billing.respond must be a function',
      'handlers.accounts (an agent without "respond"): "url" must be an http(s) URL',
      'handlers.accounts (an agent without "respond"): "model" must be a non-empty string',
      'handlers.service_desk.onHandoff must be a function',
      'handlers.shipping_desk.kind must be "agent", "human" or "host"',
      'handlers.nothing must be an object with a "kind"',
    ]);
  });
});

describe('createRouter', () => {
  // NOTE: never loaded: createRouter checks the catalog and handlers before the model starts.
  const model = () => new LocalClassifier({ modelId: 'fenliu-demo', device: 'cpu' });
  const base = { catalog, baseUrl: 'https://shop.example/' };
  const valid = {
    billing: { kind: 'agent' as const, respond: answer },
    accounts: { kind: 'agent' as const, respond: answer },
    service_desk: { kind: 'human' as const, onHandoff: () => Promise.resolve({}) },
  };

  it('throws catalog-invalid naming a handler of the wrong shape', async () => {
    const handlers = { ...valid, billing: { kind: 'agent', respond: 'oops' } };
    const error: unknown = await createRouter({
      ...base,
      model: model(),
      handlers: handlers as unknown as typeof valid,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataValidationError);
    expect((error as DataValidationError).code).toBe('catalog-invalid');
    expect((error as DataValidationError).message).toContain(
      'handlers.billing.respond must be a function',
    );
  });

  it('throws catalog-invalid naming the intent whose route finds no handler', async () => {
    const handlers = { billing: valid.billing, service_desk: valid.service_desk };
    const error: unknown = await createRouter({ ...base, model: model(), handlers }).catch(
      (caught: unknown) => caught,
    );
    expect((error as DataValidationError).message).toContain(
      'intent "account" routes to agent handler "accounts", which the host did not supply',
    );
  });
});
