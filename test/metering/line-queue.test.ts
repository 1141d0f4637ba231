import { describe, expect, it } from 'vitest';
import { LineQueue } from '../../src/metering/ledger/line-queue.js';

const texts = (q: LineQueue, n: number) => q.take(n).lines();

describe('LineQueue', () => {
  it('gives the lines back in order, as they were written, multi-byte characters included', () => {
    const q = new LineQueue();
    const lines = ['{"a":1}\n', '{"name":"Zoë — 東京 🦊"}\n', '\n', '{"lone":"\\ud800"}\n'];
    for (const l of lines) q.push(l);
    expect(q.length).toBe(4);
    const batch = q.take(10);
    expect(batch.count).toBe(4);
    expect(batch.lines()).toEqual(lines);
    expect(batch.bytes.equals(Buffer.from(lines.join('')))).toBe(true);
    expect(q.length).toBe(0);
    expect(q.take(5).count).toBe(0);
  });

  it('takes a prefix and keeps the rest for the next take', () => {
    const q = new LineQueue();
    for (let i = 0; i < 5; i++) q.push(`line ${i}\n`);
    expect(texts(q, 2)).toEqual(['line 0\n', 'line 1\n']);
    expect(q.length).toBe(3);
    q.push('line 5\n');
    expect(texts(q, 10)).toEqual(['line 2\n', 'line 3\n', 'line 4\n', 'line 5\n']);
  });

  it('a batch owns its bytes: lines queued after the take do not change it', () => {
    const q = new LineQueue();
    q.push('first\n');
    const batch = q.take(1);
    q.push('XXXXX\n');
    expect(batch.line(0)).toBe('first\n');
  });

  it('grows past its first buffer and moves queued lines to the front when the end is reached', () => {
    const q = new LineQueue();
    const line = (i: number) => `${JSON.stringify({ i, pad: 'é'.repeat(i % 300) })}\n`;
    const expected: string[] = [];
    let next = 0;
    // Interleaved pushes and partial takes walk the buffer's end many times (64 KB at first).
    for (let round = 0; round < 40; round++) {
      for (let k = 0; k < 97; k++) q.push(line(next++));
      const taken = q.take(61).lines();
      expected.push(...taken);
    }
    expected.push(...q.take(Infinity).lines());
    expect(expected).toEqual(Array.from({ length: next }, (_, i) => line(i)));
  });

  it('matches a plain array under random pushes and takes', () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const q = new LineQueue();
    const model: string[] = [];
    for (let step = 0; step < 3000; step++) {
      if (rand(3) > 0) {
        const l = `${'x'.repeat(rand(2000))}${rand(2) ? '🦊' : 'ü'}\n`;
        q.push(l);
        model.push(l);
      } else {
        // Fewer taken than pushed, so the queue grows and its buffer fills with a prefix already
        // taken: the compaction's path (with takes as large as the pushes the queue kept emptying).
        const n = rand(3);
        expect(q.take(n).lines()).toEqual(model.splice(0, n));
      }
      expect(q.length).toBe(model.length);
    }
  });
});
