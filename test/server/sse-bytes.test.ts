// sseBytes: what a batch of chunks puts on the wire, forwarded bytes and encoded chunks mixed.
import { describe, expect, it } from 'vitest';
import type { StreamChunk } from '../../src/backends/types.js';
import { sseBytes } from '../../src/server/sse-response.js';
import { sseData } from '../../src/streaming/sse.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Chunks cut out of one upstream read, each with its byte range. */
function fromRead(jsons: string[]): { read: Uint8Array; chunks: StreamChunk[] } {
  const read = enc.encode(jsons.map(sseData).join(''));
  let at = 0;
  const chunks = jsons.map((json) => {
    const end = at + enc.encode(sseData(json)).length;
    const chunk: StreamChunk = { json, wire: read, wireStart: at, wireEnd: end };
    at = end;
    return chunk;
  });
  return { read, chunks };
}

describe('sseBytes', () => {
  it('a run of neighbouring chunks is one view of the read, not a copy', () => {
    const { read, chunks } = fromRead(['{"a":1}', '{"b":"é"}', '{"c":3}']);
    const out = sseBytes(chunks);
    expect(out.buffer).toBe(read.buffer);
    expect(out.byteOffset).toBe(0);
    expect(out.length).toBe(read.length);
  });

  it('keeps the order when forwarded chunks, gaps, encoded chunks and another read mix', () => {
    const one = fromRead(['{"a":1}', '{"skipped":true}', '{"b":2}']);
    const two = fromRead(['{"x":1}', '{"y":2}']);
    const batch: StreamChunk[] = [one.chunks[0]!, one.chunks[2]!, { json: '{"new":"ü"}' }, { json: '{"new":2}' }, two.chunks[0]!, two.chunks[1]!, { json: '{"last":1}' }];
    expect(dec.decode(sseBytes(batch))).toBe(['{"a":1}', '{"b":2}', '{"new":"ü"}', '{"new":2}', '{"x":1}', '{"y":2}', '{"last":1}'].map(sseData).join(''));
  });

  it('a chunk without bytes is encoded from its json', () => {
    expect(dec.decode(sseBytes([{ json: '{"a":"€"}' }]))).toBe('data: {"a":"€"}\n\n');
  });
});
