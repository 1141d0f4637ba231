// Reading the request body over real sockets: the whole body taken at once when it came with its
// head (arrivedBody), the listener path when it is still arriving, and the gateway answering either.
import { Agent, createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isGatewayError } from '../../../src/errors.js';
import { arrivedBody, readLimitedNode } from '../../../src/server/middleware/json-body.js';
import { listen, type Listening } from '../../../src/server/serve.js';
import { fakeGateway, TEST_KEY } from '../../helpers/app.js';

const BODY = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });

let server: Server | undefined;
let gateway: Listening | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
  await gateway?.drain(0);
  gateway = undefined;
});

interface Seen {
  arrived: Uint8Array | undefined | Error;
  /** Bytes left in the request's buffer once arrivedBody returned or threw. */
  left: number;
  body?: string;
  ended: Promise<void>;
}

/** A server that does what the middleware does (a microtask, then arrivedBody, then the listener path) and answers 200. */
async function bodyServer(limit: number): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer(async (req: IncomingMessage, res) => {
    const ended = new Promise<void>((resolve) => req.once('end', () => resolve()));
    await undefined;
    let arrived: Seen['arrived'];
    try {
      arrived = arrivedBody(req, limit);
    } catch (err) {
      arrived = err as Error;
    }
    const entry: Seen = { arrived, left: req.readableLength, ended };
    seen.push(entry);
    if (arrived instanceof Error) return res.writeHead(413).end();
    const bytes = arrived ?? (await readLimitedNode(req, limit));
    entry.body = Buffer.from(bytes).toString('utf8');
    res.end('ok');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { port: (server!.address() as { port: number }).port, seen };
}

/** Sends raw bytes in parts, `gapMs` apart, and resolves with the raw answer once the socket closes. */
function rawExchange(port: number, parts: string[], gapMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    socket.on('connect', async () => {
      for (const [i, part] of parts.entries()) {
        if (i > 0) await new Promise((r) => setTimeout(r, gapMs));
        socket.write(part);
      }
      socket.end();
    });
  });
}

const head = (length: number) => `POST /x HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`;

describe('arrivedBody', () => {
  it('takes a body that came with its head at once, and the request still ends', async () => {
    const { port, seen } = await bodyServer(1024);
    const answer = await rawExchange(port, [head(BODY.length) + BODY], 0);
    expect(answer).toMatch(/^HTTP\/1.1 200/);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.arrived).toBeInstanceOf(Uint8Array);
    expect(seen[0]!.left).toBe(0);
    expect(seen[0]!.body).toBe(BODY);
    await seen[0]!.ended;
  });

  it('leaves a body still arriving to the listener path, which reads all of it', async () => {
    const { port, seen } = await bodyServer(1024);
    const cut = 20;
    const answer = await rawExchange(port, [head(BODY.length), BODY.slice(0, cut), BODY.slice(cut)], 30);
    expect(answer).toMatch(/^HTTP\/1.1 200/);
    expect(seen[0]!.arrived).toBeUndefined();
    expect(seen[0]!.body).toBe(BODY);
  });

  it('leaves a partly arrived body to the listener path, which keeps the part already buffered', async () => {
    const { port, seen } = await bodyServer(1024);
    const cut = 20;
    const answer = await rawExchange(port, [head(BODY.length) + BODY.slice(0, cut), BODY.slice(cut)], 30);
    expect(answer).toMatch(/^HTTP\/1.1 200/);
    expect(seen[0]!.arrived).toBeUndefined();
    expect(seen[0]!.body).toBe(BODY);
  });

  it('takes a whole chunked body once the parser has ended it', async () => {
    const { port, seen } = await bodyServer(1024);
    const chunked = `POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${BODY.length.toString(16)}\r\n${BODY}\r\n0\r\n\r\n`;
    const answer = await rawExchange(port, [chunked], 0);
    expect(answer).toMatch(/^HTTP\/1.1 200/);
    expect(seen[0]!.body).toBe(BODY);
  });

  it('refuses a whole body over the limit unread, as a 413', async () => {
    const { port, seen } = await bodyServer(16);
    const answer = await rawExchange(port, [head(BODY.length) + BODY], 0);
    expect(answer).toMatch(/^HTTP\/1.1 413/);
    const err = seen[0]!.arrived;
    expect(isGatewayError(err) && err.status === 413 && err.code === 'request_too_large').toBe(true);
    expect(seen[0]!.left).toBe(BODY.length);
  });

  it('serves requests one after another on a kept-alive socket', async () => {
    const { port, seen } = await bodyServer(1024);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    for (let i = 0; i < 5; i++) {
      const body = JSON.stringify({ n: i });
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/x', agent, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('socket', (s) => sockets.add(s));
        req.on('error', reject);
        req.end(body);
      });
      expect(status).toBe(200);
    }
    agent.destroy();
    expect(sockets.size).toBe(1);
    expect(seen.map((s) => s.body)).toEqual([0, 1, 2, 3, 4].map((n) => JSON.stringify({ n })));
    expect(seen.every((s) => s.arrived instanceof Uint8Array)).toBe(true);
  });
});

describe('the gateway reads a request body', () => {
  async function start() {
    const g = fakeGateway();
    gateway = await listen(g.app, { host: '127.0.0.1', port: 0 });
    return { ...g, port: Number(new URL(gateway.url).port) };
  }
  const chatHead = (length: number) =>
    `POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${TEST_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`;

  it('that came with its head', async () => {
    const { port, stateless } = await start();
    const answer = await rawExchange(port, [chatHead(BODY.length) + BODY], 0);
    expect(answer).toMatch(/^HTTP\/1.1 200/);
    expect(answer).toContain('Hello from fake.');
    expect(stateless.calls).toHaveLength(1);
  });

  it('that arrives in parts after its head', async () => {
    const { port, stateless } = await start();
    const answer = await rawExchange(port, [chatHead(BODY.length), BODY.slice(0, 10), BODY.slice(10)], 30);
    expect(answer).toMatch(/^HTTP\/1.1 200/);
    expect(stateless.calls).toHaveLength(1);
  });

  it('that is whole and over the limit: 413 in the OpenAI shape, no upstream call', async () => {
    const { port, stateless, runtime } = await start();
    // Small enough to come in one read with its head, so that it is whole when the limit is checked.
    (runtime.config.server as { bodyLimitBytes: number }).bodyLimitBytes = 128;
    const big = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(200) }] });
    const answer = await rawExchange(port, [chatHead(big.length) + big], 0);
    expect(answer).toMatch(/^HTTP\/1.1 413/);
    expect(answer).toContain('"code":"request_too_large"');
    expect(stateless.calls).toHaveLength(0);
  });
});
