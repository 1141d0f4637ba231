// The raw pass-through (undici dispatcher) against a plain node:http server: the pool, backpressure
// and cancellation that the simulator tests do not reach.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { APIUserAbortError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { rawChat } from '../../../src/backends/azure/raw.js';
import { exposedHeaders } from '../../../src/backends/azure/response.js';
import { LazyAbortController } from '../../../src/resilience/lazy-abort.js';
import { silentTls } from '../../helpers/hanging-connect.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server | undefined;
const sockets = new Set<Socket>();

async function upstream(handler: Handler): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  server = createServer(handler);
  server.on('connection', (s) => (connections++, sockets.add(s)));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/chat`, connections: () => connections };
}

afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Calls "in turn" come from different client requests, not from the microtask in which the last
 * one ended: undici frees a connection after its response's end callback, so a call dispatched
 * inside that callback's promise chain finds it still busy and opens another. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

const call = (url: string, extra: { maxSockets?: number; timeoutMs?: number; connectMs?: number } = {}) =>
  rawChat({ url: () => url, headers: { 'api-key': 'k' }, timeoutMs: extra.timeoutMs ?? 5_000, connectMs: extra.connectMs ?? 5_000, ...extra });

describe('raw pass-through', () => {
  it('sends the body and auth once, and reuses one keep-alive connection for calls in turn', async () => {
    const seen: { key: string | undefined; body: string }[] = [];
    const up = await upstream((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d));
      req.on('end', () => {
        seen.push({ key: req.headers['api-key'] as string | undefined, body });
        res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'up-1' }).end('{"ok":true}');
      });
    });
    const send = call(up.url);
    for (let i = 0; i < 3; i++) {
      const r = await send({ upstreamModel: 'm', body: `{"n":${i}}`, cancel: new LazyAbortController() });
      expect(r.status).toBe(200);
      expect(exposedHeaders(r.rawHeaders)['x-upstream-request-id']).toBe('up-1');
      expect(await r.body.text()).toBe('{"ok":true}');
      await nextTurn();
    }
    expect(seen).toEqual([0, 1, 2].map((n) => ({ key: 'k', body: `{"n":${n}}` })));
    expect(up.connections()).toBe(1);
  });

  it('a reader that stops reading pauses the socket: the upstream is held back instead of the body piling up in memory', async () => {
    const total = 64 * 1024 * 1024;
    const piece = 64 * 1024;
    let sent = 0;
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const pump = () => {
        while (sent < total) {
          const ok = res.write(Buffer.alloc(piece, 97 + ((sent / piece) % 26)));
          sent += piece;
          if (!ok) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const r = await call(up.url)({ upstreamModel: 'm', body: '{}', cancel: new LazyAbortController() });
    const it = r.body.chunks();
    let bytes = (await it.next()).value!.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Without the pause the whole 64 MiB would be in the gateway by now; with it, only the kernel's
    // socket buffers and the 256 KiB limit hold any.
    expect(sent).toBeLessThan(total / 2);
    for (let next = await it.next(); !next.done; next = await it.next()) {
      const chunk = next.value;
      // Every byte in order: piece i is filled with letter i mod 26.
      for (let i = 0; i < chunk.length; i += 4096) expect(chunk[i]).toBe(97 + (Math.floor((bytes + i) / piece) % 26));
      bytes += chunk.length;
    }
    expect(bytes).toBe(total);
  });

  it('a whole body larger than the buffer limit is read by text() without waiting on the pause', async () => {
    const big = JSON.stringify({ choices: [{ message: { content: 'x'.repeat(3 * 1024 * 1024) } }] });
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // In pieces, so the gateway sees many reads and passes the limit before the end.
      for (let i = 0; i < big.length; i += 64 * 1024) res.write(big.slice(i, i + 64 * 1024));
      res.end();
    });
    const r = await call(up.url)({ upstreamModel: 'm', body: '{}', cancel: new LazyAbortController() });
    // Let the body pile up past the limit before asking for it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await r.body.text()).toBe(big);
  });

  it('stopping after the end keeps the connection; stopping before it cancels the upstream request', async () => {
    let closedEarly = 0;
    const up = await upstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (req.url?.includes('slow')) {
        res.write('data: 1\n\n');
        res.on('close', () => void (res.writableEnded || closedEarly++));
        return;
      }
      res.end('data: 1\n\ndata: [DONE]\n\n');
    });
    const send = call(up.url);
    for (let i = 0; i < 2; i++) {
      const r = await send({ upstreamModel: 'm', body: '{}', cancel: new LazyAbortController() });
      const it = r.body.chunks();
      while (!(await it.next()).done);
      await it.return!();
      await nextTurn();
    }
    expect(up.connections()).toBe(1);
    const slow = await call(`${up.url}?slow`)({ upstreamModel: 'm', body: '{}', cancel: new LazyAbortController() });
    const it = slow.body.chunks();
    expect((await it.next()).done).toBe(false);
    await it.return!();
    await expect.poll(() => closedEarly, { timeout: 2_000 }).toBe(1);
  });

  it('poll() gives what has arrived without an await, and nothing while the body is still coming', async () => {
    let finish: (() => void) | undefined;
    const up = await upstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (req.url?.includes('later')) {
        res.write('data: 1\n\n');
        finish = () => res.end('data: [DONE]\n\n');
        return;
      }
      res.end('data: 1\n\ndata: [DONE]\n\n');
    });
    const whole = await call(up.url)({ upstreamModel: 'm', body: '{}', cancel: new LazyAbortController() });
    await nextTurn(); // the body and its end, read with the head or just after it
    const it = whole.body.chunks();
    const first = it.poll();
    expect(first?.done).toBe(false);
    expect(Buffer.from(first!.value!).toString()).toBe('data: 1\n\ndata: [DONE]\n\n');
    expect(it.poll()).toEqual({ done: true, value: undefined });
    expect(await it.next()).toEqual({ done: true, value: undefined });

    const later = await call(`${up.url}?later`)({ upstreamModel: 'm', body: '{}', cancel: new LazyAbortController() });
    const lit = later.body.chunks();
    await expect.poll(() => lit.poll()?.value?.toString()).toBe('data: 1\n\n');
    expect(lit.poll()).toBeUndefined(); // the rest has not come: next() would wait
    const pending = lit.next();
    finish!();
    expect((await pending).value?.toString()).toBe('data: [DONE]\n\n');
    expect(lit.poll()).toEqual({ done: true, value: undefined });
  });

  it('an abort while the call waits for a free connection rejects at once and never sends it', async () => {
    let requests = 0;
    let release: (() => void) | undefined;
    const up = await upstream((_req, res) => {
      requests++;
      if (requests === 1) release = () => res.end('{}');
      else res.end('{}');
    });
    const send = call(up.url, { maxSockets: 1 });
    const first = send({ upstreamModel: 'm', body: '{}', cancel: new LazyAbortController() });
    await expect.poll(() => release !== undefined).toBe(true);
    const ac = new LazyAbortController();
    const queued = send({ upstreamModel: 'm', body: '{}', cancel: ac });
    ac.abort();
    await expect(queued).rejects.toBeInstanceOf(APIUserAbortError);
    release!();
    expect(await (await first).body.text()).toBe('{}');
    expect(await (await send({ upstreamModel: 'm', body: '{}', cancel: new LazyAbortController() })).body.text()).toBe('{}');
    expect(requests).toBe(2);
  });

  it('an abort mid-body ends the body with an AbortError; headers that never come are a 504', async () => {
    const up = await upstream((req, res) => {
      if (req.url?.includes('silent')) return;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
    });
    const ac = new LazyAbortController();
    const r = await call(up.url)({ upstreamModel: 'm', body: '{}', cancel: ac });
    const it = r.body.chunks();
    await it.next();
    const pending = it.next();
    ac.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(call(`${up.url}?silent`, { timeoutMs: 50 })({ upstreamModel: 'm', body: '{}', cancel: new LazyAbortController() })).rejects.toMatchObject({
      status: 504,
      code: 'upstream_timeout',
    });
  });

  it('a TLS handshake that never completes is a connect timeout: 504 upstream_connect_timeout, undici\'s error as the cause', async () => {
    const silent = await silentTls();
    try {
      const started = performance.now();
      const err = await call(`https://127.0.0.1:${silent.port}/chat`, { connectMs: 200 })({ upstreamModel: 'm', body: '{}', cancel: new LazyAbortController() }).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 504, type: 'timeout_error', code: 'upstream_connect_timeout', cause: { code: 'UND_ERR_CONNECT_TIMEOUT' } });
      // undici's connect timer ticks every ~0.5 s; the call's own 5 s headers timeout is far off.
      expect(performance.now() - started).toBeLessThan(2500);
    } finally {
      await silent.close();
    }
  });
});
