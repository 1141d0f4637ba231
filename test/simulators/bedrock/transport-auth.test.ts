// The real SDK against the simulator over both transports, and SigV4 refusals as AWS words them.
import { ConverseCommand, ConverseStreamCommand, ResourceNotFoundException, type ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttp2Handler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BedrockSimulator } from '../../../src/simulators/bedrock/index.js';
import { client, CREDENTIALS, SONNET, startSim, user, type Transport } from './helpers.js';

let sim: BedrockSimulator;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(() => sim.close());

// 'Hello there' (11 chars): 3 message overhead + ceil(11/4) = 6 input tokens.
const EXPECTED_TEXT = `Simulated answer from ${SONNET}. You said: "Hello there". That is 11 characters in 1 message.`;
const EXPECTED_OUTPUT_TOKENS = Math.ceil(EXPECTED_TEXT.length / 4);

describe.each<[Transport, string]>([
  ['http2', '2.0'],
  ['http1', '1.1'],
])('over %s', (transport, httpVersion) => {
  it('answers Converse with a deterministic message and usage', async () => {
    const bedrock = client(sim, transport);
    const before = sim.requests.length;
    const res = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('Hello there')] }));
    bedrock.destroy();
    expect(res.output?.message).toEqual({ role: 'assistant', content: [{ text: EXPECTED_TEXT }] });
    expect(res.stopReason).toBe('end_turn');
    expect(res.usage).toEqual({ inputTokens: 6, outputTokens: EXPECTED_OUTPUT_TOKENS, totalTokens: 6 + EXPECTED_OUTPUT_TOKENS });
    expect(res.metrics?.latencyMs).toBeGreaterThan(0);
    expect(res.$metadata.httpStatusCode).toBe(200);
    expect(res.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);

    const recorded = sim.requests.slice(before);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({
      operation: 'converse',
      method: 'POST',
      // The colon in the model id arrives URI-encoded; the simulator decodes it once.
      path: '/model/anthropic.claude-sonnet-4-20250514-v1%3A0/converse',
      modelId: SONNET,
      httpVersion,
      status: 200,
      body: { messages: [{ role: 'user', content: [{ text: 'Hello there' }] }] },
    });
    expect(recorded[0]!.headers['authorization']).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDSIMULATOR0000001\/\d{8}\/us-east-1\/bedrock\/aws4_request/);
  });

  it('streams ConverseStream events in Bedrock order with usage last', async () => {
    const bedrock = client(sim, transport);
    const res = await bedrock.send(new ConverseStreamCommand({ modelId: SONNET, messages: [user('Hello there')] }));
    const events: ConverseStreamOutput[] = [];
    for await (const event of res.stream!) events.push(event);
    bedrock.destroy();

    const kinds = events.map((e) => Object.keys(e).find((k) => k !== '$unknown'));
    expect(kinds[0]).toBe('messageStart');
    expect(kinds.slice(-3)).toEqual(['contentBlockStop', 'messageStop', 'metadata']);
    const deltas = events.filter((e) => e.contentBlockDelta).map((e) => e.contentBlockDelta!.delta?.text);
    expect(deltas.length).toBe(5);
    expect(deltas.join('')).toBe(EXPECTED_TEXT);
    expect(events.at(-2)?.messageStop?.stopReason).toBe('end_turn');
    expect(events.at(-1)?.metadata?.usage).toEqual({ inputTokens: 6, outputTokens: EXPECTED_OUTPUT_TOKENS, totalTokens: 6 + EXPECTED_OUTPUT_TOKENS });
    expect(sim.requests.at(-1)).toMatchObject({ operation: 'converse-stream', httpVersion, status: 200 });
  });

  it('rejects a wrong secret with 403 InvalidSignatureException', async () => {
    const bedrock = client(sim, transport, { credentials: { ...CREDENTIALS, secretAccessKey: 'wrong-secret' } });
    const err = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('Hello')] })).catch((e: unknown) => e);
    bedrock.destroy();
    expect(err).toMatchObject({
      name: 'InvalidSignatureException',
      message: expect.stringMatching(/^The request signature we calculated does not match the signature you provided/),
      $metadata: { httpStatusCode: 403 },
    });
  });
});

describe('authentication', () => {
  it('rejects an unknown access key with 403 UnrecognizedClientException', async () => {
    const bedrock = client(sim, 'http1', { credentials: { ...CREDENTIALS, accessKeyId: 'AKIDSOMEONEELSE00000' } });
    const err = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('Hello')] })).catch((e: unknown) => e);
    bedrock.destroy();
    expect(err).toMatchObject({ name: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.', $metadata: { httpStatusCode: 403 } });
  });

  it('rejects a signature scoped to another region', async () => {
    const bedrock = client(sim, 'http1', { region: 'eu-west-1' });
    const err = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('Hello')] })).catch((e: unknown) => e);
    bedrock.destroy();
    expect(err).toMatchObject({ name: 'InvalidSignatureException', message: expect.stringContaining("expected 'us-east-1', got 'eu-west-1'"), $metadata: { httpStatusCode: 403 } });
  });

  it('rejects a request dated more than 5 minutes off', async () => {
    const bedrock = client(sim, 'http1', { systemClockOffset: -6 * 60 * 1000 });
    const err = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('Hello')] })).catch((e: unknown) => e);
    bedrock.destroy();
    expect(err).toMatchObject({ name: 'InvalidSignatureException', message: expect.stringMatching(/^Signature expired: \d{8}T\d{6}Z is now earlier than/), $metadata: { httpStatusCode: 403 } });
  });

  it("sends a date header the SDK corrects its clock from, so a skewed client's retry succeeds", async () => {
    const bedrock = client(sim, 'http1', { maxAttempts: 2, systemClockOffset: -10 * 60 * 1000 });
    const before = sim.requests.length;
    const res = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('Hello')] }));
    bedrock.destroy();
    expect(res.$metadata.attempts).toBe(2);
    expect(sim.requests.slice(before).map((r) => r.status)).toEqual([403, 200]);
  });

  it('a wrong secret is not retried by the SDK', async () => {
    const bedrock = client(sim, 'http1', { maxAttempts: 3, credentials: { ...CREDENTIALS, secretAccessKey: 'wrong-secret' } });
    const err = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('Hello')] })).catch((e: unknown) => e);
    bedrock.destroy();
    expect(err).toMatchObject({ name: 'InvalidSignatureException', $metadata: { attempts: 1 } });
  });

  it('accepts a request signed 4 minutes off', async () => {
    const bedrock = client(sim, 'http1', { systemClockOffset: 4 * 60 * 1000 });
    const res = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('Hello')] }));
    bedrock.destroy();
    expect(res.$metadata.httpStatusCode).toBe(200);
  });

  it('accepts session credentials (x-amz-security-token is signed)', async () => {
    const bedrock = client(sim, 'http2', { credentials: { ...CREDENTIALS, sessionToken: 'session-token-123' } });
    const res = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('Hello')] }));
    bedrock.destroy();
    expect(res.$metadata.httpStatusCode).toBe(200);
    expect(sim.requests.at(-1)!.headers['x-amz-security-token']).toBe('session-token-123');
  });
});

describe('models', () => {
  it('answers an unknown model id with 404 ResourceNotFoundException', async () => {
    const bedrock = client(sim, 'http2');
    const err = await bedrock.send(new ConverseCommand({ modelId: 'anthropic.claude-nope-v1:0', messages: [user('Hello')] })).catch((e: unknown) => e);
    bedrock.destroy();
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect(err).toMatchObject({ message: 'The provided model identifier is invalid.', $metadata: { httpStatusCode: 404 } });
  });

  it('can refuse an unknown model the way live Bedrock does: 400 ValidationException', async () => {
    const live = await startSim({ unknownModel: 'validation' });
    const bedrock = client(live, 'http1');
    const err = await bedrock.send(new ConverseCommand({ modelId: 'claude-sonnet', messages: [user('Hi')] })).catch((e: unknown) => e);
    bedrock.destroy();
    await live.close();
    expect(err).toMatchObject({ name: 'ValidationException', message: 'The provided model identifier is invalid.', $metadata: { httpStatusCode: 400 } });
  });

  it('knows every model when no list is configured', async () => {
    const open = await startSim({ models: undefined });
    const bedrock = client(open, 'http1');
    const res = await bedrock.send(new ConverseCommand({ modelId: 'amazon.nova-lite-v1:0', messages: [user('Hi')] }));
    bedrock.destroy();
    await open.close();
    expect(res.output?.message?.content?.[0]?.text).toContain('Simulated answer from amazon.nova-lite-v1:0.');
  });
});

describe('connections', () => {
  it.each(['http1', 'http2'] as const)('serves 20 concurrent requests over %s', async (transport) => {
    const bedrock = client(sim, transport);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user(`Question ${i}`)] }))),
    );
    bedrock.destroy();
    expect(results.map((r) => r.output?.message?.content?.[0]?.text?.includes(`You said: "Question ${results.indexOf(r)}"`))).toEqual(Array(20).fill(true));
  });

  it('multiplexes concurrent Converse calls on one HTTP/2 session, but isolates event streams', async () => {
    const bedrock = client(sim, 'http2', { requestHandler: new NodeHttp2Handler({ disableConcurrentStreams: false }) });
    // Warm up: requests started before the first session is up would each open their own.
    await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('warm up')] }));
    const before = sim.requests.length - 1;
    const texts = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const res = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user(`Call ${i}`)] }));
        return res.output?.message?.content?.[0]?.text ?? '';
      }),
    );
    texts.forEach((text, i) => expect(text).toContain(`You said: "Call ${i}"`));
    const streamed = await Promise.all(
      Array.from({ length: 3 }, async (_, i) => {
        const res = await bedrock.send(new ConverseStreamCommand({ modelId: SONNET, messages: [user(`Stream ${i}`)] }));
        let text = '';
        for await (const event of res.stream!) text += event.contentBlockDelta?.delta?.text ?? '';
        return text;
      }),
    );
    bedrock.destroy();
    streamed.forEach((text, i) => expect(text).toContain(`You said: "Stream ${i}"`));
    const recorded = sim.requests.slice(before);
    expect(recorded.map((r) => `${r.httpVersion} ${r.status}`)).toEqual(Array(12).fill('2.0 200'));
    const calls = recorded.filter((r) => r.operation === 'converse');
    const streams = recorded.filter((r) => r.operation === 'converse-stream');
    expect(new Set(calls.map((r) => r.connection)).size).toBe(1);
    // NodeHttp2Handler always gives an event stream a session of its own.
    expect(new Set(streams.map((r) => r.connection)).size).toBe(3);
    expect(streams.map((r) => r.connection)).not.toContain(calls[0]!.connection);
  });

  it('sees HTTP/1.1 keep-alive reuse, and one connection per call with the SDK default HTTP/2 handler', async () => {
    for (const transport of ['http1', 'http2'] as const) {
      const bedrock = client(sim, transport);
      for (let i = 0; i < 3; i++) await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('Hi')] }));
      bedrock.destroy();
    }
    const [h1, h2] = [sim.requests.slice(-6, -3), sim.requests.slice(-3)];
    expect(new Set(h1.map((r) => r.connection)).size).toBe(1);
    // disableConcurrentStreams: true, as the SDK sets it, means a fresh session for every request.
    expect(new Set(h2.map((r) => r.connection)).size).toBe(3);
    expect(Math.min(...h2.map((r) => r.connection))).toBeGreaterThan(h1[0]!.connection);
  });

  it.each([
    ['http1', 'throws'],
    ['http2', 'ends quietly'],
  ] as const)('survives a client that aborts mid-stream over %s (the SDK iteration %s)', async (transport, outcome) => {
    const bedrock = client(sim, transport);
    const abort = new AbortController();
    sim.faults.push({ type: 'slowStream', eventDelayMs: 100 });
    const res = await bedrock.send(new ConverseStreamCommand({ modelId: SONNET, messages: [user('Hello there')] }), { abortSignal: abort.signal });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const event of res.stream!) {
        seen.push(Object.keys(event)[0]!);
        if (event.messageStart) abort.abort();
      }
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(seen).toEqual(['messageStart']);
    // Worth knowing for a backend: over HTTP/2 the SDK ends an aborted stream without an error,
    // so only `signal.aborted` tells a short stream from a complete one.
    if (outcome === 'throws') expect(err).toBeInstanceOf(Error);
    else expect(err).toBeUndefined();
    // The simulator notices and stops generating: a gateway test can assert its upstream abort.
    const aborted = sim.requests.at(-1)!;
    await vi.waitFor(() => expect(aborted.completed).toBe(false));
    await new Promise((r) => setTimeout(r, 250));
    expect(aborted.streamEvents).toBeLessThanOrEqual(2);
    // The simulator keeps serving the same client afterwards.
    const next = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('Still there?')] }));
    bedrock.destroy();
    expect(next.$metadata.httpStatusCode).toBe(200);
    await vi.waitFor(() => expect(sim.requests.at(-1)!.completed).toBe(true));
  });

  it('keeps only the latest maxRecordedRequests', async () => {
    const own = await startSim({ maxRecordedRequests: 2 });
    const bedrock = client(own, 'http1');
    for (const text of ['one', 'two', 'three']) await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user(text)] }));
    bedrock.destroy();
    await own.close();
    expect(own.requests.map((r) => (r.body as { messages: Array<{ content: Array<{ text: string }> }> }).messages[0]!.content[0]!.text)).toEqual(['two', 'three']);
  });

  it('closes with connections still open', async () => {
    const own = await startSim();
    const bedrock = client(own, 'http1');
    await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('Hi')] }));
    await own.close();
    const err = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('Hi')] })).catch((e: unknown) => e);
    bedrock.destroy();
    // Depending on timing the pooled socket hangs up or the port refuses: either way, an error.
    expect(err).toBeInstanceOf(Error);
  });
});
