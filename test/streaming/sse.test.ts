import { describe, expect, it } from 'vitest';
import { LineDecoder, LineTooLongError } from '../../src/streaming/lines.js';
import { decodeSSE, sseData, type SSEEvent } from '../../src/streaming/sse.js';

const enc = new TextEncoder();

async function* chunksOf(bytes: Uint8Array, sizes: () => number): AsyncGenerator<Uint8Array> {
  let i = 0;
  while (i < bytes.length) {
    const n = Math.max(1, sizes());
    yield bytes.slice(i, i + n);
    i += n;
  }
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<SSEEvent[]> {
  const out: SSEEvent[] = [];
  for await (const e of decodeSSE(source)) out.push(e);
  return out;
}

/** Small deterministic PRNG so a failing split is reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const stream =
  ': keep-alive comment\r\n' +
  'data: {"a":1}\r\n\r\n' +
  'event: ping\n' +
  'id: 7\n' +
  'data: first line\n' +
  'data:second line\n' +
  '\n' +
  'data: héllo — ✓ 𝄞\r\r' +
  'data\n\n' +
  'data: [DONE]'; // no trailing blank line

const expected: SSEEvent[] = [
  { data: '{"a":1}' },
  { event: 'ping', id: '7', data: 'first line\nsecond line' },
  { id: '7', data: 'héllo — ✓ 𝄞' },
  { id: '7', data: '' },
  { id: '7', data: '[DONE]', unterminated: true },
];

describe('LineDecoder', () => {
  it('handles \\r\\n split across chunks', () => {
    const d = new LineDecoder();
    expect(d.decode(enc.encode('one\r'))).toEqual(['one']);
    expect(d.decode(enc.encode('\ntwo\r'))).toEqual(['two']);
    expect(d.decode(enc.encode('three'))).toEqual([]);
    expect(d.decode(enc.encode('\n'))).toEqual(['three']);
    expect(d.flush()).toEqual([]);
  });

  it('treats a lone \\r as a terminator and keeps empty lines', () => {
    const d = new LineDecoder();
    expect(d.decode(enc.encode('a\r\rb\n\n'))).toEqual(['a', '', 'b', '']);
  });

  it('matches a reference split for random text with mixed terminators at random split points', () => {
    const alphabet = ['a', 'b', ' ', '\r', '\n', '\r\n', 'é', '€', '𝄞'];
    for (let seed = 1; seed <= 300; seed++) {
      const rnd = mulberry32(seed);
      const text = Array.from({ length: 1 + Math.floor(rnd() * 60) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
      const expected = text.split(/\r\n|\r|\n/);
      if (expected.at(-1) === '') expected.pop();
      const bytes = enc.encode(text);
      const d = new LineDecoder();
      const got: string[] = [];
      // Small pieces tear terminators and characters apart; larger ones hold several lines each.
      const most = seed % 2 === 0 ? 6 : 40;
      for (let i = 0; i < bytes.length; ) {
        const n = 1 + Math.floor(rnd() * most);
        got.push(...d.decode(bytes.slice(i, i + n)));
        i += n;
      }
      got.push(...d.flush());
      expect(got, `seed ${seed}: ${JSON.stringify(text)}`).toEqual(expected);
    }
  });

  it('refuses a line that outgrows maxLineBytes, counting across chunks', () => {
    const d = new LineDecoder({ maxLineBytes: 8 });
    expect(d.decode(enc.encode('12345678\nabcd'))).toEqual(['12345678']);
    expect(d.decode(enc.encode('efgh'))).toEqual([]);
    expect(() => d.decode(enc.encode('i'))).toThrow(LineTooLongError);
  });

  it('returns the unterminated last line on flush', () => {
    const d = new LineDecoder();
    expect(d.decode(enc.encode('x'))).toEqual([]);
    expect(d.decode(enc.encode('yz'))).toEqual([]);
    expect(d.flush()).toEqual(['xyz']);
  });
});

describe('decodeSSE', () => {
  it('decodes a whole buffer', async () => {
    expect(await collect(chunksOf(enc.encode(stream), () => 1 << 20))).toEqual(expected);
  });

  it('decodes byte by byte (multi-byte characters and \\r\\n torn apart)', async () => {
    expect(await collect(chunksOf(enc.encode(stream), () => 1))).toEqual(expected);
  });

  it('decodes at random split points', async () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = mulberry32(seed);
      const events = await collect(chunksOf(enc.encode(stream), () => Math.floor(rnd() * 9)));
      expect(events, `seed ${seed}`).toEqual(expected);
    }
  });

  it('yields nothing for comments only', async () => {
    expect(await collect(chunksOf(enc.encode(': a\n: b\n\n'), () => 2))).toEqual([]);
  });

  it('round-trips sseData', async () => {
    const json = JSON.stringify({ choices: [{ delta: { content: 'a\nb' } }] });
    const wire = sseData(json) + sseData('[DONE]');
    expect(wire.startsWith('data: {')).toBe(true);
    expect(await collect(chunksOf(enc.encode(wire), () => 3))).toEqual([{ data: json }, { data: '[DONE]' }]);
  });
});
