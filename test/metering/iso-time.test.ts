import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoTime } from '../../src/metering/iso-time.js';

const MAX = 253402300800000; // 10000-01-01T00:00:00.000Z

describe('isoTime', () => {
  it("is Date's toISOString for any time, whole or fractional, in any order (the kept second changes under it)", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: MAX - 1 }), fc.double({ min: 0, max: MAX - 1, noNaN: true }), fc.integer({ min: 1_700_000_000_000, max: 1_700_000_003_000 })), { minLength: 1, maxLength: 20 }), (times) => {
        for (const ms of times) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 500 },
    );
  });

  it('the milliseconds of one second, each padded to three digits', () => {
    const base = Date.UTC(2026, 10, 26, 23, 59, 59);
    for (let ms = 0; ms < 1000; ms++) expect(isoTime(base + ms)).toBe(new Date(base + ms).toISOString());
    expect(isoTime(base + 1000)).toBe('2026-11-27T00:00:00.000Z');
    expect(isoTime(base + 999.9)).toBe('2026-11-26T23:59:59.999Z');
  });

  it('times Date writes otherwise (before 1970, after 9999) are its own text', () => {
    for (const ms of [-1, -1000.5, -62198755200000, MAX, MAX + 123, 8.64e15]) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });
});
