// sseBody: the SSE response body read the way @hono/node-server's writer reads it (getReader, read
// until done), here for a stream whose last batch is marked as such (backends/types.ts, isLastBatch).
import { describe, expect, it } from 'vitest';
import { markLastBatch, streamResult, type StreamChunk } from '../../src/backends/types.js';
import { GatewayError } from '../../src/errors.js';
import { sseBody, sseWhole, type StreamHooks } from '../../src/server/sse-response.js';
import { sseData } from '../../src/streaming/sse.js';

const dec = new TextDecoder();

/** A stream of the given batches; `asked` counts next() calls, and asking after `stopAt` fails the test. */
function source(batches: StreamChunk[][], stopAt = Infinity) {
  const state = { asked: 0 };
  const iterable: AsyncIterable<StreamChunk[]> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        state.asked++;
        if (state.asked > stopAt) throw new Error('asked for a batch after the last one');
        const value = batches.shift();
        return value ? { done: false, value } : { done: true, value: undefined };
      },
      return: async () => ({ done: true, value: undefined }),
    }),
  };
  return { state, result: streamResult({ status: 200, headers: {}, model: () => 'm', usage: () => undefined, batches: iterable }) };
}

async function readAll(body: ReadableStream<Uint8Array>): Promise<string[]> {
  const reader = body.getReader();
  const values: string[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return values;
    values.push(dec.decode(value));
  }
}

function hooks(extra: Partial<StreamHooks> = {}) {
  const ends: unknown[] = [];
  return { ends, hooks: { onEnd: (o: unknown) => ends.push(o), ...extra } as StreamHooks };
}

describe('sseBody and the last batch', () => {
  it('after the last batch comes [DONE], and no later batch is asked for', async () => {
    const { state, result } = source([[{ json: '{"a":1}' }], markLastBatch([{ json: '{"b":2}' }, { json: '{"c":3}' }])], 2);
    const h = hooks();
    const values = await readAll(sseBody(result, h.hooks, () => {}));
    expect(values).toEqual(['data: {"a":1}\n\n', 'data: {"b":2}\n\ndata: {"c":3}\n\n', 'data: [DONE]\n\n']);
    expect(state.asked).toBe(2);
    expect(h.ends).toEqual([{ ok: true }]);
  });

  it('an unmarked stream still ends with a read for the end', async () => {
    const { state, result } = source([[{ json: '{"a":1}' }]]);
    const h = hooks();
    expect(await readAll(sseBody(result, h.hooks, () => {}))).toEqual(['data: {"a":1}\n\n', 'data: [DONE]\n\n']);
    expect(state.asked).toBe(2);
    expect(h.ends).toEqual([{ ok: true }]);
  });

  it('the end hook runs before [DONE]; if it fails, the last batch is followed by the error event instead', async () => {
    const order: string[] = [];
    const ok = hooks({ beforeDone: async () => void order.push('beforeDone') });
    const okValues = await readAll(sseBody(source([markLastBatch([{ json: '{"a":1}' }])], 1).result, { ...ok.hooks, onEnd: (o) => (order.push('end'), ok.ends.push(o)) }, () => {}));
    expect(okValues).toEqual(['data: {"a":1}\n\n', 'data: [DONE]\n\n']);
    expect(order).toEqual(['beforeDone', 'end']);

    const failing = hooks({
      beforeDone: async () => {
        throw new GatewayError({ status: 503, message: 'The session could not be saved.', code: 'session_store_unavailable' });
      },
    });
    const values = await readAll(sseBody(source([markLastBatch([{ json: '{"a":1}' }])], 1).result, failing.hooks, () => {}));
    expect(values).toHaveLength(2);
    expect(values[0]).toBe('data: {"a":1}\n\n');
    expect(values[1]!.startsWith('data: {"error":')).toBe(true);
    expect(JSON.parse(values[1]!.slice(6)).error.code).toBe('session_store_unavailable');
    expect(values.join('')).not.toContain('[DONE]');
    expect(failing.ends).toEqual([{ ok: false, error: expect.objectContaining({ code: 'session_store_unavailable' }) }]);
  });
});

/** Chunks cut out of one upstream read that goes on with `after`, each with its byte range. */
function fromRead(jsons: string[], after: string): { read: Uint8Array; chunks: StreamChunk[] } {
  const read = new TextEncoder().encode(jsons.map(sseData).join('') + after);
  let at = 0;
  const chunks = jsons.map((json) => {
    const end = at + Buffer.byteLength(sseData(json));
    const chunk: StreamChunk = { json, wire: read, wireStart: at, wireEnd: end };
    at = end;
    return chunk;
  });
  return { read, chunks };
}

describe('the end in the upstream read', () => {
  it('sseBody: a last batch whose read goes on with [DONE] is sent with it as one view of the read, in one read', async () => {
    const { read, chunks } = fromRead(['{"a":1}', '{"b":2}'], 'data: [DONE]\n\n');
    const { result } = source([markLastBatch(chunks)], 1);
    const h = hooks();
    const body = sseBody(result, h.hooks, () => {});
    const reader = body.getReader();
    const first = await reader.read();
    expect(first.value!.buffer).toBe(read.buffer);
    expect(dec.decode(first.value)).toBe('data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n');
    expect((await reader.read()).done).toBe(true);
    expect(h.ends).toEqual([{ ok: true }]);
  });

  it('sseBody: a read that goes on with anything else gets [DONE] in a read of its own', async () => {
    const { chunks } = fromRead(['{"a":1}'], 'data: {"dropped":1}\n\n');
    const values = await readAll(sseBody(source([markLastBatch(chunks)], 1).result, hooks().hooks, () => {}));
    expect(values).toEqual(['data: {"a":1}\n\n', 'data: [DONE]\n\n']);
  });

  it('sseWhole: in place when the read goes on with [DONE]; copied when it does not, when it ends too soon, or when the chunks are not one run', async () => {
    const inPlace = fromRead(['{"a":1}', '{"b":2}'], 'data: [DONE]\n\n');
    const out = sseWhole(inPlace.chunks, hooks().hooks) as Uint8Array;
    expect(out.buffer).toBe(inPlace.read.buffer);
    expect(dec.decode(out)).toBe('data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n');

    const cases = [
      fromRead(['{"a":1}', '{"b":2}'], 'data: [DONE]\n'), // the read ends inside it
      fromRead(['{"a":1}', '{"b":2}'], 'data: [DONX]\n\n'),
      fromRead(['{"a":1}', '{"b":2}'], ''),
    ];
    // A read in Node's shared pool (Buffer.from), after an encoded chunk: the copy sseBytes makes may be
    // in the same pool, and is still not mistaken for a view of the read.
    const pooled = Buffer.from('data: {"b":2}\n\ndata: [DONE]\n\n');
    const pooledChunk: StreamChunk = { json: '{"b":2}', wire: pooled, wireStart: 0, wireEnd: 'data: {"b":2}\n\n'.length };
    const pooledOut = sseWhole([{ json: '{"a":1}' }, pooledChunk], hooks().hooks) as Uint8Array;
    expect(dec.decode(pooledOut)).toBe('data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n');
    const gap = fromRead(['{"a":1}', '{"skipped":1}', '{"b":2}'], 'data: [DONE]\n\n');
    for (const chunks of [...cases.map((c) => c.chunks), [gap.chunks[0]!, gap.chunks[2]!], [{ json: '{"a":1}' }, { json: '{"b":2}' }]]) {
      const copied = sseWhole(chunks, hooks().hooks) as Uint8Array;
      expect(copied.buffer).not.toBe(chunks[0]!.wire?.buffer);
      expect(dec.decode(copied)).toBe('data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n');
    }
  });
});

describe('sseWhole: a stream taken whole', () => {
  it('is the batch and [DONE] in one buffer; the hooks run as for a body whose first read is its last', async () => {
    const order: string[] = [];
    const h = hooks({ onFirstChunk: () => order.push('first'), onBatch: (b) => order.push(`batch ${b.length}`) });
    const bytes = sseWhole([{ json: '{"a":1}' }, { json: '{"b":2}' }], { ...h.hooks, onEnd: (o) => (order.push('end'), h.ends.push(o)) });
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(dec.decode(bytes as Uint8Array)).toBe('data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n');
    expect(order).toEqual(['first', 'batch 2', 'end']);
    expect(h.ends).toEqual([{ ok: true }]);
  });

  it('waits for the end hook; if it fails, the error event takes the place of [DONE]', async () => {
    const ok = hooks({ beforeDone: async () => {} });
    expect(dec.decode(await sseWhole([{ json: '{"a":1}' }], ok.hooks))).toBe('data: {"a":1}\n\ndata: [DONE]\n\n');
    expect(ok.ends).toEqual([{ ok: true }]);

    const failing = hooks({
      beforeDone: async () => {
        throw new GatewayError({ status: 503, message: 'The session could not be saved.', code: 'session_store_unavailable' });
      },
    });
    const text = dec.decode(await sseWhole([{ json: '{"a":1}' }], failing.hooks));
    const [first, second, rest] = text.split('\n\n');
    expect(first).toBe('data: {"a":1}');
    expect(JSON.parse(second!.slice(6)).error.code).toBe('session_store_unavailable');
    expect(rest).toBe('');
    expect(text).not.toContain('[DONE]');
    expect(failing.ends).toEqual([{ ok: false, error: expect.objectContaining({ code: 'session_store_unavailable' }) }]);
  });
});
