// The framework floor, for `--only floor`: what the gateway's stack costs before any of its own
// work. Hono on @hono/node-server takes the request, reads the body and parses it once, sets the
// upstream model and serialises it once, sends it with undici's dispatcher over a keep-alive pool
// (as src/backends/azure/raw.ts does) and hands the upstream's buffers back as the body, streamed
// or whole. No auth, routing, limits, resilience, SSE decoding, metering or ledger: the gap between
// this and the gateway is the cost of those. Run as a child: `floor.ts UPSTREAM_URL`; prints
// `{"url": …}` when listening.
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Agent, type Dispatcher } from 'undici';
import { API_VERSION, AZURE_KEY, DEPLOYMENT } from './config.js';

const upstream = new URL(process.argv[2] ?? '');
const agent = new Agent({ connections: 256, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });
const path = `/openai/deployments/${DEPLOYMENT}/chat/completions?api-version=${API_VERSION}`;
const headers = { 'api-key': AZURE_KEY, 'content-type': 'application/json', accept: 'application/json' };

/** The upstream's response: its head as a promise, its buffers as a pull source with the reader
 * surface node-server writes from (getReader/read), as the gateway's SSE body has. */
class Upstream implements Dispatcher.DispatchHandler {
  locked = false;
  readonly closed = Promise.resolve();
  private queue: Buffer[] = [];
  private ended = false;
  private wake: (() => void) | undefined;
  readonly head: Promise<number>;
  private resolveHead!: (status: number) => void;
  private rejectHead!: (err: Error) => void;

  constructor() {
    this.head = new Promise((resolve, reject) => ((this.resolveHead = resolve), (this.rejectHead = reject)));
  }

  onRequestStart(): void {}
  onResponseStart(_c: Dispatcher.DispatchController, status: number): void {
    this.resolveHead(status);
  }
  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.queue.push(chunk);
    this.poke();
  }
  onResponseEnd(): void {
    this.ended = true;
    this.poke();
  }
  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.ended = true;
    this.rejectHead(err);
    this.poke();
  }
  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  getReader(): this {
    this.locked = true;
    return this;
  }
  releaseLock(): void {}
  async cancel(): Promise<void> {}
  async read(): Promise<{ done: false; value: Buffer } | { done: true; value: undefined }> {
    for (;;) {
      const chunk = this.queue.shift();
      if (chunk) return { done: false, value: chunk };
      if (this.ended) return { done: true, value: undefined };
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
  async whole(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let r = await this.read(); !r.done; r = await this.read()) parts.push(r.value);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}

const readBody = (incoming: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    incoming.on('data', (p: Buffer) => parts.push(p));
    incoming.once('end', () => resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts)));
    incoming.once('error', reject);
  });

const app = new Hono<{ Bindings: { incoming: IncomingMessage } }>();
app.post('/v1/chat/completions', async (c) => {
  const body = JSON.parse((await readBody(c.env.incoming)).toString('utf8')) as Record<string, unknown>;
  body.model = DEPLOYMENT;
  const answer = new Upstream();
  agent.dispatch({ origin: upstream.origin, path, method: 'POST', headers, body: JSON.stringify(body) }, answer);
  const status = await answer.head;
  if (body.stream !== true) return new Response(await answer.whole(), { status, headers: { 'content-type': 'application/json' } });
  return new Response(answer as unknown as ReadableStream, { status, headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' } });
});

serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${info.port}` })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
