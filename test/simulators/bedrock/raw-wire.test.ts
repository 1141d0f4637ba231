// The wire itself, without the SDK: a hand-signed HTTP/1.1 request, its event-stream response
// decoded one byte at a time, SigV4 edge cases, and AWS's error headers.
import { createHash } from 'node:crypto';
import http from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { EventStreamCodec, type Message } from '@smithy/eventstream-codec';
import { SignatureV4 } from '@smithy/signature-v4';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BedrockSimulator } from '../../../src/simulators/bedrock/index.js';
import { CREDENTIALS, REGION, SONNET, startSim } from './helpers.js';

let sim: BedrockSimulator;
let port: number;
beforeAll(async () => {
  sim = await startSim();
  port = Number(new URL(sim.url).port);
});
afterAll(() => sim.close());

const ENCODED_PATH = `/model/${encodeURIComponent(SONNET)}`;
const sha256Hex = (body: string) => createHash('sha256').update(body).digest('hex');

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  chunks: Buffer[];
}

function send(options: { path: string; headers: Record<string, string>; body: string }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: options.path, headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, chunks }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Sign like the SDK does (path as sent, encoded once more by the signer). */
async function signed(options: { path: string; body: string; signPath?: string; secret?: string; date?: Date }): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    service: 'bedrock',
    region: REGION,
    credentials: { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: options.secret ?? CREDENTIALS.secretAccessKey },
    sha256: Sha256,
  });
  const request = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port,
      path: options.signPath ?? options.path,
      query: {},
      headers: { host: `127.0.0.1:${port}`, 'content-type': 'application/json', 'x-amz-content-sha256': sha256Hex(options.body) },
      body: options.body,
    },
    options.date ? { signingDate: options.date } : {},
  );
  return request.headers as Record<string, string>;
}

/** Frames are self-delimiting by their prelude; collect bytes until a whole one is there. */
function* frames(bytes: Iterable<number>): Generator<Uint8Array> {
  let buffer = new Uint8Array(0);
  for (const byte of bytes) {
    const next = new Uint8Array(buffer.length + 1);
    next.set(buffer);
    next[buffer.length] = byte;
    buffer = next;
    while (buffer.length >= 4) {
      const total = new DataView(buffer.buffer, buffer.byteOffset).getUint32(0, false);
      if (buffer.length < total) break;
      yield buffer.slice(0, total);
      buffer = buffer.slice(total);
    }
  }
  expect(buffer.length).toBe(0);
}

const header = (message: Message, name: string) => message.headers[name]?.value;

describe('raw HTTP/1.1 ConverseStream', () => {
  it('decodes byte by byte into the documented events, each with padding', async () => {
    const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'Hello there' }] }] });
    const path = `${ENCODED_PATH}/converse-stream`;
    const res = await send({ path, headers: await signed({ path, body }), body });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.amazon.eventstream');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    // Written as produced: one chunk per frame, not one buffer.
    expect(res.chunks.length).toBeGreaterThanOrEqual(9);

    const codec = new EventStreamCodec(toUtf8, fromUtf8);
    const bytes = Buffer.concat(res.chunks);
    const messages = [...frames(bytes)].map((frame) => codec.decode(frame));
    expect(messages.map((m) => header(m, ':event-type'))).toEqual([
      'messageStart',
      'contentBlockDelta',
      'contentBlockDelta',
      'contentBlockDelta',
      'contentBlockDelta',
      'contentBlockDelta',
      'contentBlockStop',
      'messageStop',
      'metadata',
    ]);
    for (const m of messages) {
      expect(header(m, ':message-type')).toBe('event');
      expect(header(m, ':content-type')).toBe('application/json');
    }
    const payloads = messages.map((m) => JSON.parse(toUtf8(m.body)) as Record<string, unknown>);
    for (const p of payloads) expect(p['p']).toMatch(/^[a-zA-Z0-9]+$/);
    expect(payloads[0]).toMatchObject({ role: 'assistant' });
    expect(payloads.slice(1, 6).map((p) => (p['delta'] as { text: string }).text).join('')).toBe(
      `Simulated answer from ${SONNET}. You said: "Hello there". That is 11 characters in 1 message.`,
    );
    expect(payloads[8]).toMatchObject({ usage: { inputTokens: 6, outputTokens: 31, totalTokens: 37 }, metrics: { latencyMs: expect.any(Number) } });
  });

  it('sends a mid-stream exception as an exception frame', async () => {
    sim.faults.push({ type: 'midStreamException', afterEvents: 1, exception: 'throttlingException' });
    const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'Hi' }] }] });
    const path = `${ENCODED_PATH}/converse-stream`;
    const res = await send({ path, headers: await signed({ path, body }), body });
    const codec = new EventStreamCodec(toUtf8, fromUtf8);
    const messages = [...frames(Buffer.concat(res.chunks))].map((frame) => codec.decode(frame));
    expect(messages).toHaveLength(2);
    expect(header(messages[1]!, ':message-type')).toBe('exception');
    expect(header(messages[1]!, ':exception-type')).toBe('throttlingException');
    expect(JSON.parse(toUtf8(messages[1]!.body))).toEqual({ message: 'Too many tokens, please wait before trying again.' });
  });
});

describe('latency', () => {
  it('streams without waiting on delayed ACKs (Nagle is off)', async () => {
    // With Nagle on, each small frame after the first waits ~40 ms for the peer's delayed ACK.
    const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'Hello there' }] }] });
    const path = `${ENCODED_PATH}/converse-stream`;
    const headers = await signed({ path, body });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const times: number[] = [];
    for (let i = 0; i < 9; i++) {
      const started = performance.now();
      await new Promise<void>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path, headers, agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end(body);
      });
      times.push(performance.now() - started);
    }
    agent.destroy();
    // Skip the first call (a fresh connection has nothing unacknowledged); then take the fastest:
    // load on a busy machine slows some calls, delayed ACKs slow every one by ~40 ms.
    expect(Math.min(...times.slice(1))).toBeLessThan(20);
  });
});

describe('raw SigV4 checks', () => {
  const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'Hi' }] }] });
  const path = `${ENCODED_PATH}/converse`;

  it('accepts a correctly signed request and names the Bedrock namespace on errors', async () => {
    const ok = await send({ path, headers: await signed({ path, body }), body });
    expect(ok.status).toBe(200);
    const bad = JSON.stringify({ messages: [] });
    const res = await send({ path, headers: await signed({ path, body: bad }), body: bad });
    expect(res.status).toBe(400);
    expect(res.headers['x-amzn-errortype']).toBe('ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/');
    expect(res.headers['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(Buffer.concat(res.chunks).toString())).toEqual({
      message: 'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
    });
  });

  it('refuses a request without an Authorization header', async () => {
    const res = await send({ path, headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(403);
    expect(res.headers['x-amzn-errortype']).toBe('MissingAuthenticationTokenException:http://internal.amazon.com/coral/com.amazon.coral.service/');
    expect(JSON.parse(Buffer.concat(res.chunks).toString())).toEqual({ message: 'Missing Authentication Token' });
  });

  it('refuses a body that does not match x-amz-content-sha256', async () => {
    const headers = await signed({ path, body });
    const res = await send({ path, headers, body: body.replace('Hi', 'Ho') });
    expect(res.status).toBe(403);
    expect(res.headers['x-amzn-errortype']).toMatch(/^InvalidSignatureException:/);
    expect(JSON.parse(Buffer.concat(res.chunks).toString()).message).toBe('The provided x-amz-content-sha256 header does not match what was computed.');
  });

  it('refuses a signature computed over the decoded path', async () => {
    // Signing `…v1:0` while sending `…v1%3A0` is the classic mistake the double encoding catches.
    const headers = await signed({ path, body, signPath: `/model/${SONNET}/converse` });
    const res = await send({ path, headers, body });
    expect(res.status).toBe(403);
    expect(res.headers['x-amzn-errortype']).toMatch(/^InvalidSignatureException:/);
  });

  it('refuses a signature from the future', async () => {
    const headers = await signed({ path, body, date: new Date(Date.now() + 6 * 60 * 1000) });
    const res = await send({ path, headers, body });
    expect(res.status).toBe(403);
    expect(JSON.parse(Buffer.concat(res.chunks).toString()).message).toMatch(/^Signature not yet current: /);
  });

  it('answers an unknown path with UnknownOperationException after authenticating', async () => {
    const other = `${ENCODED_PATH}/invoke-with-bells`;
    const res = await send({ path: other, headers: await signed({ path: other, body }), body });
    expect(res.status).toBe(404);
    expect(res.headers['x-amzn-errortype']).toMatch(/^UnknownOperationException:/);
  });
});
