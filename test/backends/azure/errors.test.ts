import { createServer, type AddressInfo, type Socket } from 'node:net';
import { APIUserAbortError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { batchesOf } from '../../../src/backends/types.js';
import { GatewayError } from '../../../src/errors.js';
import { CONTENT_FILTER_TRIGGER, azureErrors, startAzureSimulator, type AzureSimulator } from '../../../src/simulators/azure/index.js';
import { API_KEY, asStream, azure, chatCall, contentOf, ctx, drain } from './helpers.js';

let sim: AzureSimulator;
const deployments = { 'gpt-4o': 'chat', ghost: 'no-such-deployment' };

beforeAll(async () => {
  sim = await startAzureSimulator({ apiKey: API_KEY, deployments: { chat: 'gpt-4o-2024-08-06' } });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.faults.clear();
});

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof GatewayError)) throw new Error(`expected a GatewayError, got ${String(err)}`);
  return err;
}

const sse = (...events: string[]) => events.map((e) => `data: ${e}\n\n`).join('');
const chunk = (content: string) => JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'm-1', choices: [{ index: 0, delta: { content }, finish_reason: null }] });
const finishChunk = JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'm-1', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
const usageChunk = JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'm-1', choices: [], usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 } });
const streamFault = (body: string) => ({ status: 200, headers: { 'content-type': 'text/event-stream' }, body });

describe('upstream errors → GatewayError', () => {
  it('unknown client model: 404 model_not_found in OpenAI wording, nothing sent', async () => {
    const before = sim.requests.length;
    const err = await failure(azure({ endpoint: sim.url, deployments }).chat(chatCall('hi', { model: 'gpt-5' }), ctx()));
    expect(err.toJSON()).toEqual({
      error: { message: 'The model `gpt-5` does not exist or you do not have access to it.', type: 'invalid_request_error', param: null, code: 'model_not_found' },
    });
    expect(err.status).toBe(404);
    expect(sim.requests.length).toBe(before);
  });

  it('401 keeps Azure wording and code', async () => {
    const err = await failure(azure({ endpoint: sim.url, deployments, apiKey: 'wrong' }).chat(chatCall('hi'), ctx()));
    expect(err.status).toBe(401);
    expect(err.type).toBe('authentication_error');
    expect(err.code).toBe('401');
    expect(err.message).toMatch(/^Access denied due to invalid subscription key/);
  });

  it('404 DeploymentNotFound passes through', async () => {
    const err = await failure(azure({ endpoint: sim.url, deployments }).chat(chatCall('hi', { model: 'ghost' }), ctx()));
    expect(err.status).toBe(404);
    expect(err.code).toBe('DeploymentNotFound');
    expect(err.message).toBe(azureErrors.deploymentNotFound().body.error && (azureErrors.deploymentNotFound().body.error as { message: string }).message);
  });

  it('429 keeps retry-after, retry-after-ms, rate-limit and request-id headers (also for a stream request)', async () => {
    const limited = azureErrors.rateLimited(7);
    sim.faults.push({ ...limited, times: 2 });
    for (const stream of [false, true]) {
      const err = await failure(azure({ endpoint: sim.url, deployments }).chat(chatCall('hi', { stream }), ctx()));
      expect(err.status).toBe(429);
      expect(err.type).toBe('rate_limit_error');
      expect(err.code).toBe('429');
      expect(err.message).toMatch(/Please retry after 7 seconds/);
      expect(err.headers).toMatchObject({ 'retry-after': '7', 'retry-after-ms': '7000', 'x-ratelimit-remaining-tokens': '0' });
      expect(err.headers['apim-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(err.headers['content-type']).toBeUndefined();
    }
  });

  it('content filter: 400 with param, code and innererror passed through', async () => {
    const err = await failure(azure({ endpoint: sim.url, deployments }).chat(chatCall(`about ${CONTENT_FILTER_TRIGGER}`), ctx()));
    expect(err.status).toBe(400);
    expect(err.code).toBe('content_filter');
    expect(err.param).toBe('prompt');
    expect(err.type).toBe('invalid_request_error'); // Azure sends type null
    const json = err.toJSON().error as Record<string, unknown>;
    expect(json.innererror).toMatchObject({ code: 'ResponsibleAIPolicyViolation', content_filter_result: { violence: { filtered: true, severity: 'medium' } } });
  });

  it('a non-JSON 5xx keeps its status with a plain message', async () => {
    sim.faults.push({ status: 503, body: '<html>upstream busy</html>', headers: { 'content-type': 'text/html' } });
    const err = await failure(azure({ endpoint: sim.url, deployments }).chat(chatCall('hi'), ctx()));
    expect(err.status).toBe(503);
    expect(err.message).toBe('The upstream answered 503.');
  });

  it('a 200 whose body is not JSON: 502 upstream_invalid_response', async () => {
    sim.faults.push({ status: 200, body: '{"choices": [', headers: { 'content-type': 'application/json' } });
    const err = await failure(azure({ endpoint: sim.url, deployments }).chat(chatCall('hi'), ctx()));
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_invalid_response');
  });

  it('unreachable upstream: 502 upstream_unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await failure(azure({ endpoint: `http://127.0.0.1:${port}`, deployments }).chat(chatCall('hi'), ctx()));
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_unreachable');
  });

  it('connection reset before headers: 502 upstream_unreachable', async () => {
    sim.faults.push({ resetConnection: true });
    const err = await failure(azure({ endpoint: sim.url, deployments }).chat(chatCall('hi'), ctx()));
    expect(err.status).toBe(502);
  });

  it('SDK timeout: 504 upstream_timeout', async () => {
    // A server that accepts and never answers: nothing shared with the simulator, so no timing games.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const err = await failure(azure({ endpoint, deployments, timeoutMs: 50 }).chat(chatCall('hi'), ctx()));
      expect(err.status).toBe(504);
      expect(err.type).toBe('timeout_error');
      expect(err.code).toBe('upstream_timeout');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('stream failures', () => {
  it('a reset mid-stream throws a GatewayError after the chunks that arrived', async () => {
    sim.faults.push({ cutAfterChunks: 4, resetConnection: true });
    const result = asStream(await azure({ endpoint: sim.url, deployments }).chat(chatCall('Hello there', { stream: true }), ctx()));
    const { chunks, error } = await drain(result);
    expect(chunks).toHaveLength(4);
    expect(contentOf(chunks)).toBe('You said: ');
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).status).toBe(502);
    expect((error as GatewayError).code).toBe('upstream_stream_interrupted');
    expect(result.usage()).toBeUndefined();
  });

  it('a clean end without [DONE] before the finish is an error, not a short answer', async () => {
    sim.faults.push({ cutAfterChunks: 5 });
    const result = asStream(await azure({ endpoint: sim.url, deployments }).chat(chatCall('Hello there', { stream: true }), ctx()));
    const { chunks, error } = await drain(result);
    expect(chunks).toHaveLength(5);
    expect((error as GatewayError).code).toBe('upstream_stream_incomplete');
  });

  it('an end without [DONE] after finish and usage is finalised as complete', async () => {
    // filter, role, 4 words, finish, usage = 8 events; cut before [DONE]
    sim.faults.push({ cutAfterChunks: 8 });
    const result = asStream(await azure({ endpoint: sim.url, deployments }).chat(chatCall('Hello there', { stream: true }), ctx()));
    const { chunks, error } = await drain(result);
    expect(error).toBeUndefined();
    expect(chunks).toHaveLength(7);
    expect(result.usage()).toMatchObject({ input: 10, output: 4 });
  });

  it('skips malformed events, finds usage on any chunk, ignores "usage":null', async () => {
    sim.faults.push(
      streamFault(
        sse(chunk('a'), 'not json', chunk('b').replace('"choices"', '"usage":null,"choices"'), '{"broken":', finishChunk, usageChunk, '[DONE]'),
      ),
    );
    const result = asStream(await azure({ endpoint: sim.url, deployments }).chat(chatCall('hi', { stream: true }), ctx()));
    const { chunks, error } = await drain(result);
    expect(error).toBeUndefined();
    // "not json" is skipped; '{"broken":' has no usage so it passes through unparsed (the client's SDK decides)
    expect(chunks.map((c) => c.json)).toEqual([chunk('a'), chunk('b').replace('"choices"', '"usage":null,"choices"'), '{"broken":', finishChunk]);
    expect(result.usage()).toEqual({ input: 9, output: 2, cacheRead: 0, cacheWrite: 0, reasoning: 0 });
    expect(result.model).toBe('m-1');
  });

  it('a malformed usage chunk is skipped, and the stream then counts as incomplete without [DONE]', async () => {
    sim.faults.push(streamFault(sse(chunk('a'), finishChunk, '{"choices":[],"usage":{"prompt_tokens":')));
    const result = asStream(await azure({ endpoint: sim.url, deployments }).chat(chatCall('hi', { stream: true }), ctx()));
    const { chunks, error } = await drain(result);
    expect(chunks).toHaveLength(2);
    expect((error as GatewayError).code).toBe('upstream_stream_incomplete');
  });

  it('an error event mid-stream becomes a GatewayError with the upstream fields', async () => {
    const errorEvent = JSON.stringify({ error: { message: 'The server had an error while processing your request.', type: 'server_error', code: 'server_error', param: null } });
    sim.faults.push(streamFault(sse(chunk('a'), errorEvent)));
    const result = asStream(await azure({ endpoint: sim.url, deployments }).chat(chatCall('hi', { stream: true }), ctx()));
    const { chunks, error } = await drain(result);
    expect(chunks).toHaveLength(1);
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).toJSON()).toEqual({ error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: 'server_error' } });
    expect((error as GatewayError).status).toBe(502);
  });
});

describe('aborts', () => {
  it('an abort before the headers rethrows the SDK abort as is', async () => {
    sim.faults.push({ delayBeforeHeadersMs: 300 });
    const controller = new AbortController();
    const pending = azure({ endpoint: sim.url, deployments })
      .chat(chatCall('hi'), ctx(controller.signal))
      .catch((e: unknown) => e);
    // Abort once the simulator holds the request (and has taken the fault), not on a timer.
    await expect.poll(() => sim.faults.pending).toBe(0);
    controller.abort();
    const err = await pending;
    expect(err).toBeInstanceOf(APIUserAbortError);
  });

  it('an abort mid-stream stops the stream with the abort, not a GatewayError', async () => {
    sim.faults.push({ delayBetweenChunksMs: 40 });
    const controller = new AbortController();
    const result = asStream(await azure({ endpoint: sim.url, deployments }).chat(chatCall('Hello there', { stream: true }), ctx(controller.signal)));
    const seen: string[] = [];
    const err = await (async () => {
      for await (const batch of batchesOf(result))
        for (const c of batch) {
          seen.push(c.json);
          if (seen.length === 2) controller.abort();
        }
    })().catch((e: unknown) => e);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.length).toBeLessThan(7);
    expect(err).not.toBeInstanceOf(GatewayError);
    expect((err as Error).name).toBe('AbortError');
  });
});
