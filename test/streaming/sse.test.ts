import { describe, expect, it } from 'vitest';
import { LineDecoder, LineTooLongError } from '../../src/streaming/lines.js';
import { SSEStreamDecoder, decodeSSE, sseData, type SSEEvent } from '../../src/streaming/sse.js';

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

describe('SSEStreamDecoder keepBytes', () => {
  // Plain events (ASCII and not), then what only the general path reads: an event field, a comment,
  // two data lines, and plain events again after them.
  const plainStream =
    'data: {"a":"x"}\n\n' +
    'data: {"b":"héllo — ✓ 𝄞"}\n\n' +
    'data: {"c":""}\n\n' +
    'event: error\ndata: {"error":{}}\n\n' +
    ': ping\n\n' +
    'data: {"d":1,\ndata: "e":2}\n\n' +
    'data: {"f":"€"}\n\n' +
    'data: [DONE]\n\n';
  const plainExpected: SSEEvent[] = [
    { data: '{"a":"x"}' },
    { data: '{"b":"héllo — ✓ 𝄞"}' },
    { data: '{"c":""}' },
    { event: 'error', data: '{"error":{}}' },
    { data: '{"d":1,\n"e":2}' },
    { data: '{"f":"€"}' },
    { data: '[DONE]' },
  ];
  const dec = new TextDecoder();
  const withoutBytes = ({ bytes: _b, start: _s, end: _e, ...event }: SSEEvent): SSEEvent => event;

  function decodeIn(pieces: Uint8Array[]): SSEEvent[] {
    const d = new SSEStreamDecoder({ keepBytes: true });
    return [...pieces.flatMap((p) => d.push(p)), ...d.end()];
  }

  it('a whole stream in one chunk: each plain event says where its bytes are, the others take the general path', () => {
    const events = decodeIn([enc.encode(plainStream)]);
    expect(events.map(withoutBytes)).toEqual(plainExpected);
    const forwarded = events.filter((e) => e.bytes !== undefined);
    expect(forwarded.map((e) => e.data)).toEqual(['{"a":"x"}', '{"b":"héllo — ✓ 𝄞"}', '{"c":""}']);
    for (const e of forwarded) expect(dec.decode(e.bytes!.subarray(e.start, e.end))).toBe(sseData(e.data));
  });

  it('at random split points: the same events, and every byte range is the event it names', () => {
    const bytes = enc.encode(plainStream);
    let forwardedSomewhere = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = mulberry32(seed);
      const pieces: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; ) {
        const n = 1 + Math.floor(rnd() * 40);
        pieces.push(bytes.slice(i, i + n));
        i += n;
      }
      const events = decodeIn(pieces);
      expect(events.map(withoutBytes), `seed ${seed}`).toEqual(plainExpected);
      for (const e of events.filter((x) => x.bytes !== undefined)) {
        forwardedSomewhere++;
        expect(dec.decode(e.bytes!.subarray(e.start, e.end)), `seed ${seed}`).toBe(sseData(e.data));
      }
    }
    expect(forwardedSomewhere).toBeGreaterThan(0);
  });

  it('a plain event after one torn across chunks is cut out of the chunk that finishes the torn one', () => {
    const d = new SSEStreamDecoder({ keepBytes: true });
    expect(d.push(enc.encode('data: {"a":'))).toEqual([]);
    const events = d.push(enc.encode('1}\n\ndata: {"b":2}\n\n'));
    expect(events.map((e) => e.data)).toEqual(['{"a":1}', '{"b":2}']);
    expect(events[0]!.bytes).toBeUndefined();
    expect(dec.decode(events[1]!.bytes!.subarray(events[1]!.start, events[1]!.end))).toBe('data: {"b":2}\n\n');
  });

  it('a chunk that starts with the blank line closing the held event: the events after it keep their bytes', () => {
    const d = new SSEStreamDecoder({ keepBytes: true });
    expect(d.push(enc.encode('data: {"a":1}\n'))).toEqual([]);
    const events = d.push(enc.encode('\ndata: {"b":2}\n\n'));
    expect(events.map((e) => e.data)).toEqual(['{"a":1}', '{"b":2}']);
    expect(dec.decode(events[1]!.bytes!.subarray(events[1]!.start, events[1]!.end))).toBe('data: {"b":2}\n\n');
  });

  it('an event id, once set, keeps every later event on the general path, which repeats it', () => {
    const events = decodeIn([enc.encode('id: 7\ndata: {"a":1}\n\n'), enc.encode('data: {"b":2}\n\n')]);
    expect(events).toEqual([
      { id: '7', data: '{"a":1}' },
      { id: '7', data: '{"b":2}' },
    ]);
  });

  it('"\\r" line ends take the general path and keep no bytes', () => {
    const events = decodeIn([enc.encode('data: {"a":1}\r\n\r\ndata: {"b":2}\n\n')]);
    expect(events).toEqual([{ data: '{"a":1}' }, { data: '{"b":2}' }]);
  });

  it('without keepBytes, events carry no bytes', () => {
    const d = new SSEStreamDecoder();
    expect(d.push(enc.encode('data: {"a":1}\n\n'))).toEqual([{ data: '{"a":1}' }]);
  });
});
