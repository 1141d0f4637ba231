import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { actualCost, statelessResendCost } from '../../src/metering/cost.js';
import { parseScaled, picoToUsdNumber, picoToUsdString, usdToPico } from '../../src/metering/money.js';
import type { Price } from '../../src/metering/prices.js';

// A price with at most 6 decimals (USD per 1M tokens), up to $200 per 1M.
const price = fc.integer({ min: 0, max: 200_000_000 }).map((micro) => micro / 1e6);
const tokens = fc.integer({ min: 0, max: 2_000_000 });

describe('money properties', () => {
  it('a config price (≤ 6 decimals, as a JS number) parses to exactly its micro-dollar integer', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200_000_000 }), (micro) => {
        expect(parseScaled(micro / 1e6, 6)).toBe(BigInt(micro));
      }),
    );
  });

  it('any single-request cost survives the ledger (JS number, JSON, NUMERIC string) exactly', () => {
    fc.assert(
      fc.property(fc.record({ input: tokens, output: tokens, cacheRead: tokens, cacheWrite: tokens }), fc.tuple(price, price, price, price), (u, [i, o, r, w]) => {
        const p: Price = { model: 'm', input: parseScaled(i, 6), output: parseScaled(o, 6), cacheRead: parseScaled(r, 6), cacheWrite: parseScaled(w, 6) };
        for (const pico of [actualCost({ ...u, reasoning: 0 }, p), statelessResendCost({ ...u, reasoning: 0 }, p)]) {
          const asNumber = picoToUsdNumber(pico);
          expect(usdToPico(JSON.parse(JSON.stringify(asNumber)) as number)).toBe(pico);
          expect(usdToPico(picoToUsdString(pico))).toBe(pico);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('picoToUsdNumber is the double its exact decimal string parses to, on both sides of 2^53', () => {
    const exact = 2n ** 53n;
    const edges = [0n, 1n, -1n, 5n, 10n ** 12n, exact - 1n, exact, exact + 1n, -exact, -exact - 1n, 10n ** 18n + 7n];
    for (const pico of edges) expect(picoToUsdNumber(pico)).toBe(Number(picoToUsdString(pico)));
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 60n), max: 2n ** 60n }), (pico) => {
        expect(picoToUsdNumber(pico)).toBe(Number(picoToUsdString(pico)));
      }),
      { numRuns: 20_000 },
    );
    // Amounts with few digits, where a rounding slip would show as 0.1 + 0.2 does.
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 12 }), (digits, shift) => {
        const pico = BigInt(digits) * 10n ** BigInt(shift);
        expect(picoToUsdNumber(pico)).toBe(Number(picoToUsdString(pico)));
      }),
      { numRuns: 20_000 },
    );
  });
});
