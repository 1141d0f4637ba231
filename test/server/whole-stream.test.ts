// A streamed answer whose upstream stream had ended by the time the gateway answers goes out whole,
// with its length (sse-response.ts, sseWhole; resilience/call.ts, whole); one still arriving goes
// out chunked as it comes. Over real HTTP, the Azure backend in front of a raw upstream that writes
// its SSE events in one piece or spread out in time, read by raw HTTP and by openai-node.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/logger.js';

const KEY = 'sk-whole-stream-0123456789';
const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-w', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-2024-08-06', choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], usage: null })}\n\n`;
const EVENTS = [
  chunk({ role: 'assistant', content: '' }),
  chunk({ content: 'Foxes ' }),
  chunk({ content: 'are quick.' }),
  chunk({}, 'stop'),
  `data: ${JSON.stringify({ id: 'chatcmpl-w', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-2024-08-06', choices: [], usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 } })}\n\n`,
  'data: [DONE]\n\n',
];

let upstream: Server | undefined;
let gateway: Gateway | undefined;
afterEach(async () => {
  await gateway?.stop(0);
  await new Promise((r) => (upstream ? upstream.close(r) : r(undefined)));
  gateway = undefined;
  upstream = undefined;
});

/** The upstream writes the events in one piece, or the first alone and the rest `gapMs` later. */
async function start(gapMs: number | undefined, ledgerDir?: string): Promise<string> {
  upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (gapMs === undefined) return void res.end(EVENTS.join(''));
      res.write(EVENTS[0]! + EVENTS[1]!);
      setTimeout(() => res.end(EVENTS.slice(2).join('')), gapMs);
    });
  });
  await new Promise<void>((r) => upstream!.listen(0, '127.0.0.1', r));
  const yaml = `
auth:
  keys:
    - { name: a, tenant: acme, key: ${KEY} }
backends:
  azure:
    type: azure-openai
    endpoint: http://127.0.0.1:${(upstream.address() as AddressInfo).port}
    apiKey: upstream-key
    apiVersion: "2024-10-21"
    deployments: { gpt-4o: gpt-4o-prod }
metering:
  ledger: ${ledgerDir ? `{ type: jsonl, dir: "${ledgerDir}" }` : '{ type: none }'}
`;
  gateway = await startGateway({ config: parseConfig(yaml, 'whole.yaml', {}), env: {}, port: 0, logger: createLogger({ level: 'silent' }) });
  return gateway.url;
}

/** The response's head, its body, and when (ms after the request) the head and the end came. */
function post(url: string, body: object): Promise<{ status: number; headers: IncomingHttpHeaders; text: string; headAt: number; endAt: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' } }, (res) => {
      const headAt = performance.now() - t0;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text, headAt, endAt: performance.now() - t0 }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const ask = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Foxes?' }], stream: true };
const events = (text: string) => text.split('\n\n').filter((e) => e !== '');

describe('a streamed answer the upstream had finished', () => {
  it('goes out whole with its Content-Length: the events as the upstream sent them, then [DONE]', async () => {
    const url = await start(undefined);
    const res = await post(url, { ...ask, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['transfer-encoding']).toBeUndefined();
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
    expect(res.headers['x-stateroute-route']).toBeDefined();
    expect(res.text).toBe(EVENTS.join(''));
  });

  it('drops the usage chunk the client did not ask for, and is metered with usage and a first-chunk time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-whole-'));
    const url = await start(undefined, dir);
    const res = await post(url, ask);
    expect(events(res.text)).toEqual([...EVENTS.slice(0, 4), 'data: [DONE]'].map((e) => e.trimEnd()));
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
    await gateway!.stop(0);
    gateway = undefined;
    const [file] = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
    const records = readFileSync(join(dir, file!), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 200, stream: true, modelAnswered: 'gpt-4o-2024-08-06', tokens: { input: 9, output: 4 }, errorType: null });
    expect(records[0].ttftMs).toBeGreaterThanOrEqual(0);
  });

  it('reads as a stream in openai-node, chunk by chunk', async () => {
    const url = await start(undefined);
    const client = new OpenAI({ apiKey: KEY, baseURL: `${url}/v1`, maxRetries: 0 });
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Foxes?' }], stream: true, stream_options: { include_usage: true } })
      .withResponse();
    // The whole path, not the chunked one, is what the SDK reads here.
    expect(response.headers.get('content-length')).not.toBeNull();
    expect(response.headers.get('transfer-encoding')).toBeNull();
    const deltas: string[] = [];
    let usage;
    for await (const c of stream) {
      if (c.choices[0]?.delta.content) deltas.push(c.choices[0].delta.content);
      if (c.usage) usage = c.usage;
    }
    expect(deltas).toEqual(['Foxes ', 'are quick.']);
    expect(usage).toEqual({ prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 });
  });
});

describe('a streamed answer still arriving', () => {
  it('goes out chunked as it comes: the head and first events before the upstream has finished', async () => {
    const url = await start(300);
    const res = await post(url, ask);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.headAt).toBeLessThan(250);
    expect(res.endAt).toBeGreaterThanOrEqual(290);
    expect(events(res.text)).toEqual([...EVENTS.slice(0, 4), 'data: [DONE]'].map((e) => e.trimEnd()));
  });
});
