// The real SDK decoding event-stream bytes delivered one byte at a time, then stream.ts: the SSE
// text a client would read is compared with a golden string. A handler stands in for HTTP, so
// this isolates framing + translation from the simulator.
import { Readable } from 'node:stream';
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { mapBedrockError } from '../../../src/backends/bedrock/error.js';
import { translateStream } from '../../../src/backends/bedrock/stream.js';

const MODEL_ID = 'anthropic.claude-sonnet-4-20250514-v1:0';
const codec = new EventStreamCodec(toUtf8, fromUtf8);
const logger = pino({ level: 'silent' });

const frame = (messageType: 'event' | 'exception', type: string, payload: Record<string, unknown>) =>
  codec.encode({
    headers: {
      ':message-type': { type: 'string', value: messageType },
      [messageType === 'event' ? ':event-type' : ':exception-type']: { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });

// As captured from ConverseStream, including the `p` padding field real events carry.
const RECORDED = [
  frame('event', 'messageStart', { p: 'abcdefgh', role: 'assistant' }),
  frame('event', 'contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Let me check ' }, p: 'abcd' }),
  frame('event', 'contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'the weather — ☀️.' }, p: 'ab' }),
  frame('event', 'contentBlockStop', { contentBlockIndex: 0, p: 'abcdefghijk' }),
  frame('event', 'contentBlockStart', { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', name: 'get_weather' } }, p: 'abc' }),
  frame('event', 'contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"city": "Par' } }, p: 'a' }),
  frame('event', 'contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: 'is"}' } }, p: 'abcdef' }),
  frame('event', 'contentBlockStop', { contentBlockIndex: 1, p: 'abcdefgh' }),
  frame('event', 'messageStop', { stopReason: 'tool_use', p: 'abcdefghijklmnop' }),
  frame('event', 'metadata', { usage: { inputTokens: 410, outputTokens: 64, totalTokens: 1474, cacheReadInputTokens: 1000, cacheWriteInputTokens: 0 }, metrics: { latencyMs: 812 }, p: 'abc' }),
];

function oneByteAtATime(frames: Uint8Array[]): Readable {
  const bytes = Buffer.concat(frames);
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
    })(),
  );
}

function clientAnswering(frames: Uint8Array[]) {
  return new BedrockRuntimeClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKID', secretAccessKey: 'SECRET' },
    maxAttempts: 1,
    requestHandler: {
      handle: async () => ({
        response: { statusCode: 200, headers: { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'req-1' }, body: oneByteAtATime(frames) },
      }),
    },
  });
}

async function sse(frames: Uint8Array[], clientWantsStreamUsage: boolean): Promise<{ text: string; error?: unknown }> {
  const client = clientAnswering(frames);
  const signal = new AbortController().signal;
  const output = await client.send(new ConverseStreamCommand({ modelId: MODEL_ID, messages: [{ role: 'user', content: [{ text: 'weather?' }] }] }));
  const t = translateStream(output.stream!, { model: MODEL_ID, clientWantsStreamUsage, signal, mapError: (err) => mapBedrockError(err, { signal, logger, midStream: true }) });
  let text = '';
  try {
    for await (const chunk of t.chunks) text += `data: ${chunk.json}\n\n`;
    text += 'data: [DONE]\n\n';
  } catch (error) {
    return { text: normalise(text), error };
  }
  return { text: normalise(text) };
}

const normalise = (text: string) => text.replace(/chatcmpl-[0-9a-f]{32}/g, 'chatcmpl-ID').replace(/"created":\d+/g, '"created":0');

const head = `{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"${MODEL_ID}"`;
const GOLDEN = [
  `data: ${head},"choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}`,
  `data: ${head},"choices":[{"index":0,"delta":{"content":"Let me check "},"finish_reason":null}]}`,
  `data: ${head},"choices":[{"index":0,"delta":{"content":"the weather — ☀️."},"finish_reason":null}]}`,
  `data: ${head},"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"tooluse_kZJMlvQmRJ6eAyJE5GIl7Q","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}`,
  `data: ${head},"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"city\\": \\"Par"}}]},"finish_reason":null}]}`,
  `data: ${head},"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"is\\"}"}}]},"finish_reason":null}]}`,
  `data: ${head},"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
  `data: ${head},"choices":[],"usage":{"prompt_tokens":1410,"completion_tokens":64,"total_tokens":1474,"prompt_tokens_details":{"cached_tokens":1000}}}`,
  'data: [DONE]',
  '',
].join('\n\n');

describe('event-stream bytes → SSE', () => {
  it('a recorded stream fed one byte at a time gives the golden SSE text', async () => {
    const { text, error } = await sse(RECORDED, true);
    expect(error).toBeUndefined();
    expect(text).toBe(GOLDEN);
  });

  it('an exception frame after two events: those chunks, then a GatewayError', async () => {
    const frames = [...RECORDED.slice(0, 2), frame('exception', 'throttlingException', { message: 'Too many tokens, please wait before trying again.' })];
    const { text, error } = await sse(frames, true);
    expect(text).toBe(GOLDEN.split('\n\n').slice(0, 2).map((l) => `${l}\n\n`).join(''));
    expect(error).toMatchObject({ name: 'GatewayError', status: 429, type: 'rate_limit_error', message: 'Too many tokens, please wait before trying again.' });
  });

  it('bytes that stop mid-frame: an error, never [DONE]', async () => {
    const all = Buffer.concat(RECORDED.slice(0, 3));
    const { text, error } = await sse([all.subarray(0, all.length - 7)], false);
    expect(text).not.toContain('[DONE]');
    expect(text).not.toContain('finish_reason":"');
    expect(error).toMatchObject({ name: 'GatewayError', status: 502, code: 'upstream_stream_interrupted' });
  });
});
