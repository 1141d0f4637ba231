// onClientGone over real HTTP (the Node response's 'close'), over HTTP/2 (an adapter run on
// node:http2: the request's `aborted`) and through app.request (the signal).
import { request } from 'node:http';
import { connect, createServer as createHttp2Server, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { onClientGone } from '../../src/server/client-gone.js';
import { listen, type Listening } from '../../src/server/serve.js';

let server: Listening | undefined;
afterEach(async () => {
  await server?.drain(0);
  server = undefined;
});

/** An app whose one route answers after `answerAfterMs`, recording whether the client left first. */
function probe(answerAfterMs: number) {
  let settle!: () => void;
  const seen = { gone: 0, settled: new Promise<void>((r) => (settle = r)) };
  const app = new Hono();
  app.get('/slow', async (c) => {
    const stop = onClientGone(c, () => {
      seen.gone++;
      settle();
    });
    await new Promise((r) => setTimeout(r, answerAfterMs));
    setTimeout(() => (stop(), settle()), 200);
    return c.text('done');
  });
  return { app, seen };
}

describe('onClientGone', () => {
  it('fires once when the client hangs up before the answer, over HTTP', async () => {
    const { app, seen } = probe(300);
    server = await listen(app as never, { host: '127.0.0.1', port: 0 });
    const req = request(`${server.url}/slow`);
    req.on('error', () => {});
    req.end();
    setTimeout(() => req.destroy(), 50);
    await seen.settled;
    expect(seen.gone).toBe(1);
  });

  it('does not fire when the response was written in full, over HTTP', async () => {
    const { app, seen } = probe(0);
    server = await listen(app as never, { host: '127.0.0.1', port: 0 });
    const text = await (await fetch(`${server.url}/slow`)).text();
    expect(text).toBe('done');
    await seen.settled;
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.gone).toBe(0);
  });

  it('falls back to the request signal under app.request', async () => {
    const { app, seen } = probe(300);
    const ac = new AbortController();
    const res = app.request('/slow', { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await seen.settled;
    expect(seen.gone).toBe(1);
    await Promise.resolve(res).catch(() => {});
  });

  describe('over HTTP/2 (@hono/node-server on node:http2)', () => {
    let h2: Http2Server | undefined;
    afterEach(async () => {
      await new Promise((r) => (h2 ? h2.close(r) : r(undefined)));
      h2 = undefined;
    });

    async function serveHttp2(app: Hono): Promise<string> {
      h2 = createAdaptorServer({ fetch: app.fetch, createServer: createHttp2Server }) as unknown as Http2Server;
      await new Promise<void>((r) => h2!.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(h2.address() as AddressInfo).port}`;
    }

    it('fires once when the client resets its stream before the answer', async () => {
      const { app, seen } = probe(300);
      const session = connect(await serveHttp2(app));
      session.on('error', () => {});
      const stream = session.request({ ':path': '/slow' });
      stream.on('error', () => {});
      setTimeout(() => stream.close(0x8 /* CANCEL */), 50);
      await seen.settled;
      session.close();
      expect(seen.gone).toBe(1);
    });

    it('does not fire when the response was written in full', async () => {
      const { app, seen } = probe(0);
      const session = connect(await serveHttp2(app));
      const stream = session.request({ ':path': '/slow' });
      let text = '';
      stream.setEncoding('utf8').on('data', (d: string) => (text += d));
      await new Promise((r) => stream.on('end', r));
      session.close();
      expect(text).toBe('done');
      await seen.settled;
      await new Promise((r) => setTimeout(r, 50));
      expect(seen.gone).toBe(0);
    });
  });
});
