// scanUsage reads a usage chunk's usage object in place. Whatever it accepts it must read exactly as
// the translator did before it (JSON.parse of the object, then normaliseUsage), and what it does not
// accept it must give up on (undefined), never read differently: checked on OpenAI's and Azure's
// shapes, on generated objects and on corrupted ones.
import { describe, expect, it, vi } from 'vitest';
import { normaliseUsage } from '../../../src/backends/azure/response.js';
import { upstreamStream } from '../../../src/backends/azure/stream.js';
import * as usageScan from '../../../src/backends/azure/usage-scan.js';
import { sseData } from '../../../src/streaming/sse.js';
import { logger } from './helpers.js';

// The translator's calls are watched (the scan itself still runs).
vi.mock('../../../src/backends/azure/usage-scan.js', async (original) => {
  const actual = await original<typeof import('../../../src/backends/azure/usage-scan.js')>();
  return { scanUsage: vi.fn(actual.scanUsage) };
});
const scanUsage = vi.mocked(usageScan.scanUsage);

/** What the translator read before: the text from `at` to the chunk's closing brace, parsed. */
function parsed(text: string, at: number) {
  let end = text.length - 1;
  while (end > at && (text[end] === ' ' || text[end] === '\t')) end--;
  if (text[end] !== '}') return undefined;
  try {
    return normaliseUsage(JSON.parse(text.slice(at, end)));
  } catch {
    return undefined;
  }
}

const chunkWith = (usage: string) => `{"id":"c","object":"chat.completion.chunk","choices":[],"usage":${usage}}`;
const atOf = (chunk: string) => chunk.indexOf('"usage":') + 8;

/** The scan of the chunk's bytes (ASCII here, so text offsets are byte offsets). */
const scan = (chunk: string, at: number) => scanUsage(Buffer.from(chunk, 'latin1'), at, chunk.length);

/** The scan either gives up or agrees with the parse; returns what it read. */
function checked(chunk: string, at = atOf(chunk)) {
  const scanned = scan(chunk, at);
  if (scanned !== undefined) expect(scanned, chunk).toEqual(parsed(chunk, at));
  return scanned;
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('scanUsage', () => {
  it("reads OpenAI's and Azure's usage objects as the parse does", () => {
    const shapes = [
      '{"prompt_tokens":12,"completion_tokens":20,"total_tokens":32,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}',
      '{"completion_tokens":5,"completion_tokens_details":{"reasoning_tokens":0},"prompt_tokens":1200,"prompt_tokens_details":{"cached_tokens":1024},"total_tokens":1205}',
      '{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":64,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}',
      '{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}',
      '{ "prompt_tokens" : 7 ,\t"completion_tokens": 3 , "prompt_tokens_details" : { } }',
      '{}',
    ];
    const read = shapes.map((usage) => checked(chunkWith(usage)));
    expect(read.every((u) => u !== undefined)).toBe(true);
    expect(read[1]).toEqual({ input: 176, output: 5, cacheRead: 1024, cacheWrite: 0, reasoning: 0 });
    expect(read[2]).toEqual({ input: 19, output: 10, cacheRead: 0, cacheWrite: 0, reasoning: 64 });
    expect(read[5]).toEqual({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 });
  });

  it('reads repeated keys, nulls, negatives, misplaced values and other objects as the parse does', () => {
    const cases = [
      '{"prompt_tokens":5,"prompt_tokens":9}',
      '{"prompt_tokens_details":{"cached_tokens":4},"prompt_tokens":9,"prompt_tokens_details":{"audio_tokens":1}}',
      '{"prompt_tokens":9,"prompt_tokens_details":{"cached_tokens":4},"prompt_tokens_details":null}',
      '{"prompt_tokens":9,"prompt_tokens_details":{"cached_tokens":40}}',
      '{"prompt_tokens":null,"completion_tokens":-3,"prompt_tokens_details":7}',
      '{"prompt_tokens":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":-1}}',
      '{"other":{"prompt_tokens":100},"prompt_tokens":2}',
      '{"prompt_tokens":0,"completion_tokens":-0}',
      '{"prompt_tokens":999999999999999}',
    ];
    for (const usage of cases) expect(checked(chunkWith(usage)), usage).toBeDefined();
  });

  it('gives up on what it does not read, and on what is not JSON', () => {
    const cases = [
      '{"prompt_tokens":1.5}',
      '{"prompt_tokens":1e3}',
      '{"prompt_tokens":"12"}',
      '{"prompt_tokens":true}',
      '{"prompt_tokens":[1]}',
      '{"prompt_tokens":1234567890123456}',
      '{"prompt_tokens_details":{"cached_tokens":{"n":1}}}',
      '{"prompt\\u005ftokens":4}',
      '{"prompt_tokens":012}',
      '{"prompt_tokens":-}',
      '{"prompt_tokens":1,}',
      '{"prompt_tokens" 1}',
      '{"prompt_tokens":1',
      '{prompt_tokens:1}',
      '{"prompt_tokens":nul}',
    ];
    for (const usage of cases) expect(scan(chunkWith(usage), atOf(chunkWith(usage))), usage).toBeUndefined();
    // Anything but whitespace and the chunk's brace after the object: usage was not the last key.
    expect(scan('{"usage":{"prompt_tokens":1},"id":"c"}', 9)).toBeUndefined();
    expect(scan('{"usage":{"prompt_tokens":1}}}', 9)).toBeUndefined();
    expect(scan('{"usage":{"prompt_tokens":1}', 9)).toBeUndefined();
    expect(checked('{"usage":{"prompt_tokens":1} } \t', 9)).toEqual({ input: 1, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 });
    // Nothing past the chunk's end counts, though the scan may read there; the buffer's end stops it.
    const read = Buffer.from('{"usage":{"prompt_tokens":1}}');
    expect(scanUsage(read, 9, read.length - 2)).toBeUndefined();
    expect(scanUsage(read, 9, read.length - 1)).toBeUndefined();
    expect(scanUsage(read, 9, read.length)).toEqual({ input: 1, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 });
    for (const cut of ['{"usage":{"prompt', '{"usage":{"prompt_tokens":12', '{"usage":{"prompt_tokens":nu', '{"usage":{']) expect(scanUsage(Buffer.from(cut), 9, cut.length)).toBeUndefined();
  });

  it('agrees with the parse on generated usage objects, whole or corrupted', () => {
    const keys = ['prompt_tokens', 'completion_tokens', 'total_tokens', 'prompt_tokens_details', 'completion_tokens_details', 'cached_tokens', 'reasoning_tokens', 'audio_tokens'];
    const rnd = mulberry32(8);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const space = () => pick(['', '', '', ' ', '\t', '\n', ' \r\n ']);
    const scalar = () => pick(['0', '1', '7', '-4', '1200', 'null', '12.5', '"3"', 'true', '[]', '00']);
    const object = (depth: number): string => {
      const members: string[] = [];
      const n = Math.floor(rnd() * 5);
      for (let i = 0; i < n; i++) members.push(`${space()}"${pick(keys)}"${space()}:${space()}${depth < 2 && rnd() < 0.35 ? object(depth + 1) : scalar()}${space()}`);
      return `{${members.join(',')}${space()}}`;
    };
    let accepted = 0;
    let corruptedAccepted = 0;
    for (let i = 0; i < 4000; i++) {
      const chunk = chunkWith(object(0));
      if (checked(chunk) !== undefined) accepted++;
      // One character dropped, doubled or replaced.
      const j = Math.floor(rnd() * chunk.length);
      const corrupt = pick([
        chunk.slice(0, j) + chunk.slice(j + 1),
        chunk.slice(0, j) + chunk[j] + chunk.slice(j),
        chunk.slice(0, j) + pick(['{', '}', '"', ',', ':', '1', ' ', 'x', '\\']) + chunk.slice(j + 1),
      ]);
      const at = atOf(corrupt);
      if (at >= 8 && checked(corrupt, at) !== undefined) corruptedAccepted++;
    }
    // Both kinds were exercised: the scan read many of them rather than giving up on all.
    expect(accepted).toBeGreaterThan(400);
    expect(corruptedAccepted).toBeGreaterThan(100);
  });
});

describe('the stream translator', () => {
  async function usageOf(read: string) {
    async function* oneRead() {
      yield Buffer.from(read);
    }
    const stream = upstreamStream({ body: oneRead(), clientWantsUsage: false, upstreamModel: 'dep', cancel: { aborted: false }, logger });
    const forwarded: string[] = [];
    for await (const batch of stream.batches) for (const chunk of batch) forwarded.push(chunk.json);
    // The usage chunk the client did not ask for is dropped.
    expect(forwarded.some((json) => json.includes('prompt_tokens'))).toBe(false);
    return stream.usage();
  }
  const usage = '{"prompt_tokens":1200,"completion_tokens":5,"total_tokens":1205,"prompt_tokens_details":{"cached_tokens":1024}}';
  const expected = { input: 176, output: 5, cacheRead: 1024, cacheWrite: 0, reasoning: 0 };

  it("reads a dropped usage chunk's usage with the scan, in the read's bytes", async () => {
    scanUsage.mockClear();
    // Another event before it, so the chunk does not start the read.
    const read = sseData('{"id":"c","model":"m","choices":[],"usage":null}') + sseData(`{"id":"c","choices":[],"usage":${usage}}`) + 'data: [DONE]\n\n';
    expect(await usageOf(read)).toEqual(expected);
    expect(scanUsage).toHaveBeenCalledTimes(1);
    expect(scanUsage.mock.results[0]!.value).toEqual(expected);
  });

  it('parses it when its text is not one byte a character (offsets in the text are not in the bytes)', async () => {
    scanUsage.mockClear();
    const read = sseData(`{"id":"cé","choices":[],"usage":${usage}}`) + 'data: [DONE]\n\n';
    expect(await usageOf(read)).toEqual(expected);
    expect(scanUsage).not.toHaveBeenCalled();
  });
});
