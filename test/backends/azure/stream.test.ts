// stream.ts without HTTP: a recorded Azure stream (shape of a real capture, include_usage forced on)
// fed one byte at a time must come out as exactly the same SSE, minus the usage chunk the client
// did not ask for.
import { describe, expect, it } from 'vitest';
import { endsWithNullUsage, upstreamStream } from '../../../src/backends/azure/stream.js';
import { chatRequestBody } from '../../../src/backends/azure/request.js';
import { isLastBatch } from '../../../src/backends/types.js';
import { GatewayError } from '../../../src/errors.js';
import { sseBytes, sseBytesThenEnd } from '../../../src/server/sse-response.js';
import { sseData } from '../../../src/streaming/sse.js';
import { logger } from './helpers.js';

const recorded = [
  '{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]}',
  '{"choices":[{"content_filter_results":{},"delta":{"content":"","refusal":null,"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],"created":1732550000,"id":"chatcmpl-AXyz","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_04751d0b65","usage":null}',
  '{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"delta":{"content":"Bonjour \\"usage\\": été"},"finish_reason":null,"index":0,"logprobs":null}],"created":1732550000,"id":"chatcmpl-AXyz","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_04751d0b65","usage":null}',
  '{"choices":[{"content_filter_results":{},"delta":{},"finish_reason":"stop","index":0,"logprobs":null}],"created":1732550000,"id":"chatcmpl-AXyz","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_04751d0b65","usage":null}',
  '{"choices":[],"created":1732550000,"id":"chatcmpl-AXyz","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_04751d0b65","usage":{"completion_tokens":5,"completion_tokens_details":{"reasoning_tokens":0},"prompt_tokens":1200,"prompt_tokens_details":{"cached_tokens":1024},"total_tokens":1205}}',
];
const wire = new TextEncoder().encode(recorded.map(sseData).join('').replaceAll('\n', '\r\n') + 'data: [DONE]\r\n\r\n');

async function* byteByByte(bytes: Uint8Array) {
  for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
}

async function run(clientWantsUsage: boolean, bytes = wire) {
  const stream = upstreamStream({ body: byteByByte(bytes), clientWantsUsage, upstreamModel: 'dep', cancel: { aborted: false }, logger });
  let out = '';
  let error: unknown;
  try {
    for await (const batch of stream.batches) for (const chunk of batch) out += sseData(chunk.json);
  } catch (e) {
    error = e;
  }
  return { out, error, usage: stream.usage(), model: stream.model() };
}

describe('upstreamStream', () => {
  it('passes a recorded stream through byte-exact, dropping the unrequested usage chunk', async () => {
    const { out, error, usage, model } = await run(false);
    expect(error).toBeUndefined();
    expect(out).toBe(recorded.slice(0, 4).map(sseData).join(''));
    expect(usage).toEqual({ input: 176, output: 5, cacheRead: 1024, cacheWrite: 0, reasoning: 0 });
    expect(model).toBe('gpt-4o-2024-08-06');
  });

  it('reads a pollable source without awaiting it while it has something, and the same stream comes out', async () => {
    // A source as raw.ts's chunks(): poll() hands over what has arrived, next() is for waiting.
    const pieces = [wire.subarray(0, 700), wire.subarray(700)];
    const calls = { poll: 0, next: 0, return: 0 };
    let arrived = 1; // the second piece arrives only when next() is asked for it
    const source = {
      poll: () => {
        calls.poll++;
        if (pieces.length === 0) return { done: true as const, value: undefined };
        return arrived > 0 ? (arrived--, { done: false as const, value: pieces.shift()! }) : undefined;
      },
      next: async () => {
        calls.next++;
        arrived++;
        return { done: false as const, value: pieces.shift()! };
      },
      return: () => (calls.return++, Promise.resolve({ done: true as const, value: undefined })),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    const stream = upstreamStream({ body: source, clientWantsUsage: true, upstreamModel: 'dep', cancel: { aborted: false }, logger });
    let out = '';
    for await (const batch of stream.batches) for (const chunk of batch) out += sseData(chunk.json);
    expect(out).toBe(recorded.map(sseData).join(''));
    expect(calls).toEqual({ poll: 2, next: 1, return: 1 });
  });

  it('keeps the usage chunk when the client asked', async () => {
    const { out, usage } = await run(true);
    expect(out).toBe(recorded.map(sseData).join(''));
    expect(usage?.input).toBe(176);
  });

  it('accepts a server that omits the blank line after [DONE]', async () => {
    const { out, error } = await run(true, wire.subarray(0, wire.length - 4));
    expect(error).toBeUndefined();
    expect(out).toBe(recorded.map(sseData).join(''));
  });

  it('joins a payload spread over several data: lines onto one line', async () => {
    const bytes = new TextEncoder().encode(`data: {"choices":[{"index":0,\ndata: "delta":{"content":"a\\nb"}}]}\n\n${sseData(recorded[3]!)}${sseData(recorded[4]!)}data: [DONE]\n\n`);
    const { out, error, usage } = await run(false, bytes);
    expect(error).toBeUndefined();
    expect(out).toBe(sseData('{"choices":[{"index":0, "delta":{"content":"a\\nb"}}]}') + sseData(recorded[3]!));
    expect(usage?.output).toBe(5);
  });

  it('an upstream that never sends a line break fails with a GatewayError instead of growing memory', async () => {
    async function* endless() {
      const block = new TextEncoder().encode('data: ' + 'x'.repeat(64 * 1024));
      for (let i = 0; i < 200; i++) yield block; // 12.8 MB, no newline
    }
    const stream = upstreamStream({ body: endless(), clientWantsUsage: false, upstreamModel: 'dep', cancel: { aborted: false }, logger });
    const err = await (async () => {
      for await (const _ of stream.batches);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('upstream_stream_interrupted');
  });

  it('hands on the events of one read as one batch', async () => {
    async function* oneRead() {
      yield wire;
    }
    const stream = upstreamStream({ body: oneRead(), clientWantsUsage: true, upstreamModel: 'dep', cancel: { aborted: false }, logger });
    const batches: string[][] = [];
    for await (const batch of stream.batches) batches.push(batch.map((c) => c.json));
    expect(batches).toEqual([recorded]);
  });

  it('the batch that came with [DONE] is marked the last, after the upstream body was let go; earlier batches are not', async () => {
    const text = recorded.map(sseData).join('') + 'data: [DONE]\n\n';
    const split = text.indexOf(`data: ${recorded[3]}`);
    let returned = false;
    let returnedBeforeLast: boolean | undefined;
    const body: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]() {
        const reads = [text.slice(0, split), text.slice(split)].map((t) => new TextEncoder().encode(t));
        return {
          next: async () => (reads.length ? { done: false, value: reads.shift()! } : { done: true, value: undefined }),
          return: async () => {
            returned = true;
            return { done: true, value: undefined };
          },
        };
      },
    };
    const stream = upstreamStream({ body, clientWantsUsage: true, upstreamModel: 'dep', cancel: { aborted: false }, logger });
    const marks: boolean[] = [];
    for await (const batch of stream.batches) {
      marks.push(isLastBatch(batch));
      if (isLastBatch(batch)) returnedBeforeLast = returned;
    }
    expect(marks).toEqual([false, true]);
    expect(returnedBeforeLast).toBe(true);
    expect(stream.usage()?.output).toBe(5);
  });

  it('usage is read from a dropped usage-only chunk whatever its key order, and a chunk with usage and content is forwarded whole', async () => {
    const usage = '{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}';
    const reads = [
      // usage last (its object parsed alone), usage first (the whole chunk parsed), usage with a choice (forwarded)
      `{"id":"c","choices":[],"usage":${usage}}`,
      `{"usage":${usage},"id":"c","choices":[]}`,
      `{"id":"c","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}],"usage":${usage}}`,
    ];
    for (const [i, json] of reads.entries()) {
      async function* oneRead() {
        yield new TextEncoder().encode(sseData(json) + 'data: [DONE]\n\n');
      }
      const stream = upstreamStream({ body: oneRead(), clientWantsUsage: false, upstreamModel: 'dep', cancel: { aborted: false }, logger });
      const out: string[] = [];
      for await (const batch of stream.batches) for (const chunk of batch) out.push(chunk.json);
      expect(stream.usage()).toEqual({ input: 7, output: 3, cacheRead: 0, cacheWrite: 0, reasoning: 0 });
      expect(out).toEqual(i === 2 ? [json] : []);
    }
  });

  it('no batch is marked the last when the upstream ends without [DONE] or breaks', async () => {
    for (const bytes of [new TextEncoder().encode(recorded.map(sseData).join('')), wire.subarray(0, wire.length - 300)]) {
      async function* oneRead() {
        yield bytes;
      }
      const stream = upstreamStream({ body: oneRead(), clientWantsUsage: true, upstreamModel: 'dep', cancel: { aborted: false }, logger });
      const marks: boolean[] = [];
      await (async () => {
        for await (const batch of stream.batches) marks.push(isLastBatch(batch));
      })().catch(() => {});
      expect(marks.length).toBeGreaterThan(0);
      expect(marks.every((m) => !m)).toBe(true);
    }
  });

  it('an error event in a read: the chunks before it first, then the error, and nothing after it', async () => {
    const error = '{"error":{"message":"The server had an error.","type":"server_error","code":"server_error"}}';
    async function* oneRead() {
      yield new TextEncoder().encode([recorded[1]!, recorded[2]!, error, recorded[3]!].map(sseData).join(''));
    }
    const stream = upstreamStream({ body: oneRead(), clientWantsUsage: false, upstreamModel: 'dep', cancel: { aborted: false }, logger });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const batch of stream.batches) for (const chunk of batch) seen.push(chunk.json);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([recorded[1], recorded[2]]);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).message).toBe('The server had an error.');
  });

  describe("chunks in OpenAI's key order (choices, then usage, last)", () => {
    const openai = (delta: Record<string, unknown>, finish: string | null) =>
      JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-2024-08-06', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null });
    const usageChunk = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-2024-08-06', choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } });
    async function* oneRead(events: string[]) {
      yield new TextEncoder().encode(events.map(sseData).join(''));
    }

    it('content chunks go on as they came; the first still names the model, and an error that ends like one is still an error', async () => {
      // Valid JSON whose end is a content chunk's end: only its start says it is an error.
      const error = '{"error":{"message":"Boom."},"choices":[{"finish_reason":null}],"usage":null}';
      const first = openai({ role: 'assistant', content: '' }, null);
      const second = openai({ content: 'Hi' }, null);
      const stream = upstreamStream({ body: oneRead([first, second, error, openai({ content: 'lost' }, null)]), clientWantsUsage: false, upstreamModel: 'dep', cancel: { aborted: false }, logger });
      const seen: string[] = [];
      const err = await (async () => {
        for await (const batch of stream.batches) for (const chunk of batch) seen.push(chunk.json);
      })().catch((e: unknown) => e);
      expect(seen).toEqual([first, second]);
      expect(stream.model()).toBe('gpt-4o-2024-08-06');
      expect((err as GatewayError).message).toBe('Boom.');
    });

    it('a finish chunk among them still counts: the stream that ends after finish and usage without [DONE] is complete', async () => {
      const events = [openai({ role: 'assistant', content: '' }, null), openai({ content: 'Hi' }, null), openai({}, 'stop'), usageChunk];
      const stream = upstreamStream({ body: oneRead(events), clientWantsUsage: true, upstreamModel: 'dep', cancel: { aborted: false }, logger });
      const seen: string[] = [];
      for await (const batch of stream.batches) for (const chunk of batch) seen.push(chunk.json);
      expect(seen).toEqual(events);
      expect(stream.usage()).toMatchObject({ input: 3, output: 2 });
    });

    it('without [DONE], a stream whose last chunk with choices had no finish reason is incomplete, whatever came before it', async () => {
      for (const events of [
        [openai({ role: 'assistant', content: '' }, null), openai({ content: 'Hi' }, null), usageChunk],
        [openai({ role: 'assistant', content: '' }, null), openai({}, 'stop'), openai({ content: 'more' }, null), usageChunk],
      ]) {
        const stream = upstreamStream({ body: oneRead(events), clientWantsUsage: true, upstreamModel: 'dep', cancel: { aborted: false }, logger });
        const err = await (async () => {
          for await (const _ of stream.batches);
        })().catch((e: unknown) => e);
        expect((err as GatewayError).code).toBe('upstream_stream_incomplete');
      }
    });
  });

  it('a stream cut inside an event throws after the complete events', async () => {
    const cut = wire.subarray(0, wire.length - 300);
    const { out, error } = await run(false, cut);
    expect(out).toBe(recorded.slice(0, 4).map(sseData).join(''));
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('upstream_stream_incomplete');
  });
});

describe('endsWithNullUsage', () => {
  // Its 13 comparisons are written out by hand: a wrong constant would only send every chunk down the
  // slow path, which no other test sees. Each single-byte change of the end must fail it.
  const end = '"usage":null}';
  it('is true exactly for bytes ending "usage":null}, wherever the end is', () => {
    for (const prefix of ['', '{"a":1,', '{"choices":[],']) {
      const bytes = Buffer.from(`${prefix}${end}\n\n`, 'latin1');
      expect(endsWithNullUsage(bytes, bytes.length - 2)).toBe(true);
      expect(endsWithNullUsage(bytes, bytes.length - 1)).toBe(false);
      for (let i = 0; i < end.length; i++) {
        const changed = Buffer.from(bytes);
        changed[prefix.length + i]! ^= 0x20;
        expect(endsWithNullUsage(changed, bytes.length - 2), `byte ${i} changed`).toBe(false);
      }
    }
    expect(endsWithNullUsage(Buffer.from('null}'), 5)).toBe(false);
  });
});

describe('upstreamStream forwarding the upstream bytes', () => {
  // The same stream with "\n" line ends, as Azure and OpenAI send it: its plain events are forwarded as
  // bytes. Each stream gets reads of its own (fresh(), or slices, which copy): it may rewrite the bytes
  // of the events it drops (closeUp).
  const lfText = recorded.map(sseData).join('') + 'data: [DONE]\n\n';
  const fresh = () => new TextEncoder().encode(lfText);
  const lf = fresh();
  const dec = new TextDecoder();

  async function forwarded(clientWantsUsage: boolean, pieces: Uint8Array[]) {
    const stream = upstreamStream({ body: (async function* () { yield* pieces; })(), clientWantsUsage, upstreamModel: 'dep', cancel: { aborted: false }, logger });
    const batches = [];
    for await (const batch of stream.batches) batches.push(batch);
    return { batches, usage: stream.usage(), model: stream.model() };
  }

  it('one read: the client gets the upstream bytes as they are, up to the unrequested usage chunk, as a view of the read', async () => {
    const read = fresh();
    const { batches, usage, model } = await forwarded(false, [read]);
    expect(batches).toHaveLength(1);
    const batch = batches[0]!;
    expect(batch.every((c) => c.wire === read)).toBe(true);
    const out = sseBytes(batch);
    expect(out.buffer).toBe(read.buffer);
    const usageAt = lfText.indexOf(`data: ${recorded[4]}`);
    expect(Buffer.from(out).equals(Buffer.from(lf.subarray(0, Buffer.byteLength(lfText.slice(0, usageAt)))))).toBe(true);
    expect(dec.decode(out)).toBe(recorded.slice(0, 4).map(sseData).join(''));
    expect(usage).toEqual({ input: 176, output: 5, cacheRead: 1024, cacheWrite: 0, reasoning: 0 });
    expect(model).toBe('gpt-4o-2024-08-06');
  });

  it('the usage chunk found among chunks whose usage is null (and text that reads "usage": in a string), forwarded when asked', async () => {
    const { batches, usage } = await forwarded(true, [fresh()]);
    const chunks = batches.flat();
    expect(chunks.map((c) => c.json)).toEqual(recorded);
    expect(chunks.filter((c) => c.value !== undefined).map((c) => c.json)).toEqual([recorded[4]]);
    expect(dec.decode(sseBytes(chunks))).toBe(recorded.map(sseData).join(''));
    expect(usage?.output).toBe(5);
  });

  it('a usage written with spaces is still told apart: null is not usage, an object is', async () => {
    const spaced = [
      recorded[2]!.replace('"usage":null}', '"usage": null }'),
      recorded[4]!.replace('"usage":{', '"usage": {').replace(/}$/, ' }'),
    ];
    const bytes = new TextEncoder().encode(spaced.map(sseData).join('') + 'data: [DONE]\n\n');
    const { batches, usage } = await forwarded(true, [bytes]);
    const chunks = batches.flat();
    expect(chunks.map((c) => c.value !== undefined)).toEqual([false, true]);
    expect(usage?.output).toBe(5);
  });

  it('byte by byte: the same bytes reach the client', async () => {
    const pieces = Array.from({ length: lf.length }, (_, i) => lf.slice(i, i + 1));
    const { batches, usage } = await forwarded(true, pieces);
    expect(Buffer.concat(batches.map((b) => sseBytes(b))).equals(Buffer.from(lf.subarray(0, lf.length - 'data: [DONE]\n\n'.length)))).toBe(true);
    expect(usage?.output).toBe(5);
  });

  it('split into reads of 700 bytes (events torn at read ends): the same bytes reach the client, those of whole events forwarded as they came', async () => {
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < lf.length; i += 700) pieces.push(lf.slice(i, i + 700));
    const { batches } = await forwarded(true, pieces);
    expect(dec.decode(Buffer.concat(batches.map((b) => sseBytes(b))))).toBe(recorded.map(sseData).join(''));
    expect(batches.flat().some((c) => c.wire !== undefined)).toBe(true);
  });
});

describe('the end of a stream in the upstream read (closeUp)', () => {
  const text = recorded.map(sseData).join('') + 'data: [DONE]\n\n';
  const DONE = Buffer.from('data: [DONE]\n\n');

  async function lastBatch(read: Uint8Array, clientWantsUsage: boolean) {
    const stream = upstreamStream({ body: (async function* () { yield read; })(), clientWantsUsage, upstreamModel: 'dep', cancel: { aborted: false }, logger });
    const batches = [];
    for await (const batch of stream.batches) batches.push(batch);
    expect(batches).toHaveLength(1);
    expect(isLastBatch(batches[0]!)).toBe(true);
    return batches[0]!;
  }

  it('the usage chunk not asked for: [DONE] is moved onto its bytes, and the answer and its end go out as one view of the read', async () => {
    const read = new TextEncoder().encode(text);
    const batch = await lastBatch(read, false);
    const out = sseBytesThenEnd(batch, DONE);
    expect(out.buffer).toBe(read.buffer);
    expect(out.byteOffset).toBe(0);
    expect(new TextDecoder().decode(out)).toBe(recorded.slice(0, 4).map(sseData).join('') + 'data: [DONE]\n\n');
    // The chunks passed on still read as they came.
    expect(new TextDecoder().decode(sseBytes(batch))).toBe(recorded.slice(0, 4).map(sseData).join(''));
  });

  it('the usage chunk asked for: the read is left as it came, and sent as it came', async () => {
    const read = new TextEncoder().encode(text);
    const batch = await lastBatch(read, true);
    expect(new TextDecoder().decode(read)).toBe(text);
    const out = sseBytesThenEnd(batch, DONE);
    expect(out.buffer).toBe(read.buffer);
    expect(new TextDecoder().decode(out)).toBe(text);
  });

  it('an end other than the bytes that follow (the error event), or a [DONE] not on the plain path, is copied after the chunks', async () => {
    const error = Buffer.from('data: {"error":{"message":"x"}}\n\n');
    const read = new TextEncoder().encode(text);
    const batch = await lastBatch(read, false);
    const out = sseBytesThenEnd(batch, error);
    expect(out.buffer).not.toBe(read.buffer);
    expect(new TextDecoder().decode(out)).toBe(recorded.slice(0, 4).map(sseData).join('') + error.toString());
    // "\r\n" line ends: [DONE] is not a plain event, nothing is moved, and the answer is the same.
    const crlf = new TextEncoder().encode(text.replaceAll('\n', '\r\n'));
    const crlfBatch = await lastBatch(crlf, false);
    expect(new TextDecoder().decode(crlf)).toBe(text.replaceAll('\n', '\r\n'));
    expect(new TextDecoder().decode(sseBytesThenEnd(crlfBatch, DONE))).toBe(recorded.slice(0, 4).map(sseData).join('') + 'data: [DONE]\n\n');
  });
});

describe('chatRequestBody', () => {
  const base = { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], temperature: 0.2, data_sources: [{ type: 'azure_search' }] };

  it('rewrites the model and forces include_usage, keeping other stream options', () => {
    const body = chatRequestBody(
      { body: { ...base, stream: true, stream_options: { include_obfuscation: false } }, model: 'gpt-4o', stream: true, clientWantsStreamUsage: false },
      'dep-1',
    );
    expect(body).toEqual({ ...base, model: 'dep-1', stream: true, stream_options: { include_obfuscation: false, include_usage: true } });
  });

  it('drops stream fields on a non-streamed call and leaves the client body untouched', () => {
    const client = { ...base, stream: false, stream_options: { include_usage: true } };
    const body = chatRequestBody({ body: client, model: 'gpt-4o', stream: false, clientWantsStreamUsage: false }, 'dep-1');
    expect(body).toEqual({ ...base, model: 'dep-1' });
    expect(client.model).toBe('gpt-4o');
    expect(client.stream_options).toEqual({ include_usage: true });
  });
});
