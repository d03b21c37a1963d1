import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reusingFetch, watchedFetch } from '../../src/engine/watched-fetch';

/**
 * A real HTTP server on 127.0.0.1: `/whole` sends 64 kB; `/stall` sends half of them with the
 * full Content-Length, then nothing (a dropped link that never resets); `/silent` never answers.
 */
const BYTES = new Uint8Array(65_536).map((_, i) => i % 251);
let server: Server;
let base: string;
const open: ServerResponse[] = [];
/** Every request the server received, as `METHOD /path`. */
const received: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    open.push(response);
    received.push(`${request.method ?? '?'} ${request.url ?? '?'}`);
    if (request.url === '/silent') return;
    response.writeHead(200, { 'Content-Length': String(BYTES.length) });
    if (request.url === '/stall') response.write(BYTES.subarray(0, BYTES.length / 2));
    else response.end(BYTES);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
});
afterAll(async () => {
  for (const response of open) response.socket?.destroy();
  await new Promise((resolve) => server.close(resolve));
});

async function readAll(response: Response): Promise<Uint8Array> {
  return new Uint8Array(await response.arrayBuffer());
}

describe('watchedFetch', () => {
  it('passes a whole download through unchanged', async () => {
    const response = await watchedFetch({ stallMs: 2000 })(`${base}/whole`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe('65536');
    expect(await readAll(response)).toEqual(BYTES);
  });

  it('fails a body that stops arriving with a network TypeError', async () => {
    const started = Date.now();
    const response = await watchedFetch({ stallMs: 300 })(`${base}/stall`);
    const error = await readAll(response).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('network: no data received for 300 ms');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('fails a request whose headers never come', async () => {
    const error = await watchedFetch({ stallMs: 300 })(`${base}/silent`).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('network: no data received for 300 ms');
  });

  it('fails a download under way when the offline event fires', async () => {
    const online = new EventTarget();
    const response = await watchedFetch({ stallMs: 60_000, onlineEvents: online })(`${base}/stall`);
    const reading = readAll(response).catch((caught: unknown) => caught);
    online.dispatchEvent(new Event('offline'));
    const error = await reading;
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe(
      'network: the browser went offline during the download',
    );
  });

  it("still honours the caller's own abort signal", async () => {
    const caller = new AbortController();
    const response = await watchedFetch({ stallMs: 60_000 })(`${base}/stall`, {
      signal: caller.signal,
    });
    const reading = readAll(response).catch((caught: unknown) => caught);
    caller.abort();
    expect(((await reading) as Error).name).toBe('AbortError');
  });
});

describe('reusingFetch', () => {
  /** The requests received for `path` while `run` ran. */
  async function requestsDuring(path: string, run: () => Promise<void>): Promise<string[]> {
    const before = received.length;
    await run();
    return received.slice(before).filter((request) => request.endsWith(` ${path}`));
  }

  it('answers a GET whose earlier response lies unread with that body: one transfer', async () => {
    const fetch = reusingFetch(globalThis.fetch);
    let second: Response | undefined;
    const requests = await requestsDuring('/whole', async () => {
      const first = await fetch(`${base}/whole`);
      expect(first.headers.get('content-length')).toBe('65536');
      second = await fetch(`${base}/whole`);
      expect(second.status).toBe(200);
      expect(second.headers.get('content-length')).toBe('65536');
      expect(await readAll(second)).toEqual(BYTES);
      // The first response gave its body away: reading it now fails instead of racing.
      expect(await readAll(first).catch((caught: unknown) => caught)).toBeInstanceOf(TypeError);
    });
    expect(requests).toEqual(['GET /whole']);
  });

  it('fetches again once a response is being read, and for other methods', async () => {
    const fetch = reusingFetch(globalThis.fetch);
    const requests = await requestsDuring('/whole', async () => {
      const first = await fetch(`${base}/whole`);
      expect(await readAll(first)).toEqual(BYTES);
      expect(await readAll(await fetch(`${base}/whole`))).toEqual(BYTES);
      await fetch(`${base}/whole`, { method: 'HEAD' });
      await fetch(`${base}/whole`, { headers: { Range: 'bytes=0-0' } });
    });
    expect(requests).toEqual(['GET /whole', 'GET /whole', 'HEAD /whole', 'GET /whole']);
  });

  it('cancels a body left unread past its window, and fetches afresh after it', async () => {
    const fetch = reusingFetch(globalThis.fetch, 50);
    const requests = await requestsDuring('/whole', async () => {
      const first = await fetch(`${base}/whole`);
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(await readAll(first).catch((caught: unknown) => caught)).toBeInstanceOf(TypeError);
      expect(await readAll(await fetch(`${base}/whole`))).toEqual(BYTES);
    });
    expect(requests).toEqual(['GET /whole', 'GET /whole']);
  });

  it('passes failures through untouched', async () => {
    const fetch = reusingFetch(watchedFetch({ stallMs: 300 }));
    const response = await fetch(`${base}/stall`);
    const error = await readAll(response).catch((caught: unknown) => caught);
    expect((error as TypeError).message).toBe('network: no data received for 300 ms');
  });
});
