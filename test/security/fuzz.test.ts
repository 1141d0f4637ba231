// Fuzz: thousands of generated malformed and hostile requests against a gateway on fake backends,
// most through app.request() (fast), a few thousand as raw bytes over real sockets. Zero 5xx, zero
// crashes, every error OpenAI-shaped, every limiter slot given back, and a normal request answered
// correctly afterwards.
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { listen, type Listening } from '../../src/server/serve.js';
import { chat, limitedApp, type LimitedApp } from '../limits/helpers.js';
import { bodyBytes, GOOD_KEY, headers, method, path, rawRequest, type RawCase } from './arbitraries.js';

const APP_RUNS = Number(process.env.FUZZ_APP_RUNS ?? 10_000);
const SOCKET_RUNS = Number(process.env.FUZZ_SOCKET_RUNS ?? 2_000);
// A fresh seed each run (more inputs over time), named in every failure so a case can be replayed with FUZZ_SEED.
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : (Date.now() ^ (process.pid << 16)) | 0;

const errorLines: string[] = [];
const crashes: unknown[] = [];
const onCrash = (err: unknown) => crashes.push(err);
let g: LimitedApp;
let server: Listening;

beforeAll(async () => {
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  const destination = new Writable({ write: (chunk, _enc, done) => (errorLines.push(String(chunk)), done()) });
  g = limitedApp('default: { requestsPerMinute: 10000000, tokensPerMinute: 1000000000, concurrentRequests: 10000, maxTokens: 8192 }', {
    extraYaml: 'server: { bodyLimitBytes: 65536, maxJsonDepth: 32, maxMessages: 64 }',
    logger: createLogger({ level: 'error', destination }),
  });
  server = await listen(g.app, { host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);
  await server?.drain(0);
});

const statuses = new Map<number, number>();
const count = (s: number) => statuses.set(s, (statuses.get(s) ?? 0) + 1);

function expectOpenAIError(status: number, text: string, what: string) {
  let body: { error?: { message?: unknown; type?: unknown } };
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${what}: ${status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  expect(typeof body.error?.message, what).toBe('string');
  expect(typeof body.error?.type, what).toBe('string');
}

describe('fuzz', () => {
  it(`${APP_RUNS} hostile requests through the app: no 5xx, errors in OpenAI shape`, async () => {
    await fc.assert(
      fc.asyncProperty(method, path, headers, bodyBytes, fc.boolean(), async (m, p, h, body, streamed) => {
        const init: RequestInit & { duplex?: 'half' } = { method: m, headers: h };
        if (m !== 'GET' && m !== 'HEAD') {
          if (streamed) {
            // A chunked upload: no content-length, the body arrives in pieces.
            init.body = new ReadableStream<Uint8Array>({
              start(controller) {
                for (let i = 0; i < body.length; i += 1024) controller.enqueue(body.subarray(i, i + 1024));
                controller.close();
              },
            });
            init.duplex = 'half';
          } else init.body = body;
        }
        const res = await g.app.request(p, init);
        const text = await res.text(); // streams read to their end
        count(res.status);
        const what = `${m} ${p} → ${res.status}`;
        expect(res.status, what).toBeLessThan(500);
        if (res.status >= 400 && m !== 'HEAD') expectOpenAIError(res.status, text, what);
      }),
      { numRuns: APP_RUNS, seed: SEED, endOnFailure: true },
    );
  }, 120_000);

  it(`${SOCKET_RUNS} raw requests over real sockets: no 5xx, the listener stays up`, async () => {
    const cases = fc.sample(rawRequest, { numRuns: SOCKET_RUNS, seed: SEED });
    const seen: { status: number; note: string }[] = [];
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const c = cases[next++]!;
        for (const status of await send(server.port, c)) seen.push({ status, note: c.note });
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    const fives = seen.filter((s) => s.status >= 500);
    expect(fives, `FUZZ_SEED=${SEED}: ${JSON.stringify(fives.slice(0, 5))}`).toEqual([]);
    if (process.env.FUZZ_VERBOSE) console.info(`socket cases: ${cases.length}, status lines: ${seen.length}`);
    expect(seen.length, `FUZZ_SEED=${SEED}`).toBeGreaterThan(SOCKET_RUNS / 2); // most cases were answered, not dropped
    for (const { status } of seen) count(status);
  }, 120_000);

  it('afterwards: no crash, no error logged, every limiter slot released, a normal request answered', async () => {
    expect(crashes).toEqual([]);
    expect(errorLines).toEqual([]);
    for (let i = 0; i < 200 && g.limiter.inFlight > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(g.limiter.inFlight).toBe(0);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${GOOD_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(chat()),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]!.message.content).toBe('Hello from fake.');
    // The spread of outcomes, so a generator that only ever produced 401s would show.
    const spread = Object.fromEntries([...statuses].sort(([a], [b]) => a - b));
    console.info('fuzz statuses', spread);
    for (const s of [200, 400, 401, 404]) expect(statuses.get(s) ?? 0, `status ${s}`).toBeGreaterThan(20);
  });
});

/** Writes one raw request; returns every status line the server answered with before closing or going quiet. */
function send(port: number, c: RawCase): Promise<number[]> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    let timer: NodeJS.Timeout;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve([...data.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1])));
    };
    const quiet = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(done, ms);
    };
    socket.on('data', (d) => {
      data += d.toString('latin1');
      quiet(100);
    });
    socket.on('close', done);
    socket.on('error', () => {});
    socket.write(c.bytes);
    // A truncated body waits for bytes that never come: then the client hangs up. Generous, so a
    // loaded machine (64 sockets at once) still answers the complete cases before it.
    quiet(1500);
  });
}
