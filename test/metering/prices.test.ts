import { describe, expect, it } from 'vitest';
import { meteringSchema } from '../../src/config/metering.js';
import { actualCost, computeCost, createCostCalculator, createEquivalents, statelessResendCost } from '../../src/metering/cost.js';
import { parseScaled, picoToUsdNumber, picoToUsdString, roundUsd, usdToPico } from '../../src/metering/money.js';
import { createPriceTable, DEFAULT_PRICES, modelCandidates } from '../../src/metering/prices.js';
import type { Usage } from '../../src/backends/types.js';
import { spyLogger } from './helpers.js';

const usage = (u: Partial<Usage>): Usage => ({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0, ...u });
const SONNET = 'anthropic.claude-sonnet-4-20250514-v1:0';

describe('money', () => {
  it('parses decimals exactly and rejects what does not fit', () => {
    expect(parseScaled('0.165', 6)).toBe(165000n);
    expect(parseScaled(0.165, 6)).toBe(165000n);
    expect(parseScaled(2.5, 6)).toBe(2500000n);
    expect(parseScaled(1e-6, 6)).toBe(1n);
    expect(parseScaled('1.5e3', 6)).toBe(1500000000n);
    expect(() => parseScaled(1e-7, 6)).toThrow(/decimal places/);
    expect(() => parseScaled('abc', 6)).toThrow();
    expect(usdToPico(0.00057783)).toBe(577830000n);
    expect(picoToUsdString(577830000n)).toBe('0.00057783');
    expect(picoToUsdString(0n)).toBe('0');
    expect(picoToUsdString(-1500000000000n)).toBe('-1.5');
    expect(roundUsd(5_000_000_000n, 2)).toBe('0.01'); // half a cent rounds up
    expect(roundUsd(4_999_999_999n, 2)).toBe('0.00');
    expect(roundUsd(-5_000_000_000n, 2)).toBe('-0.01');
  });

  it('round-trips every per-request amount through a JS number', () => {
    for (const pico of [1n, 577830000n, 123456789012345n, 999_999_999_999_999n]) expect(usdToPico(picoToUsdNumber(pico))).toBe(pico);
  });
});

describe('price lookup', () => {
  const prices = createPriceTable({});

  it('ships the PROTOCOLS.md list prices', () => {
    expect(DEFAULT_PRICES['gpt-4o']).toEqual({ input: 2.5, output: 10, cacheRead: 1.25 });
    expect(DEFAULT_PRICES['gpt-4o-mini']).toEqual({ input: 0.165, output: 0.66, cacheRead: 0.075 });
    expect(DEFAULT_PRICES[SONNET]).toEqual({ input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 });
    expect(DEFAULT_PRICES['amazon.nova-lite-v1:0']).toEqual({ input: 0.06, output: 0.24 });
    // every shipped price passes the config schema (≤ 6 decimals)
    expect(() => meteringSchema.parse({ prices: DEFAULT_PRICES })).not.toThrow();
  });

  it.each([
    ['gpt-4o', 'gpt-4o'],
    ['GPT-4o', 'gpt-4o'],
    ['gpt-4o-2024-08-06', 'gpt-4o'],
    ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['gpt-4.1-2025-04-14', 'gpt-4.1'],
    [SONNET, SONNET],
    [`us.${SONNET}`, SONNET],
    [`eu.${SONNET}`, SONNET],
    [`global.anthropic.claude-haiku-4-5-20251001-v1:0`, 'anthropic.claude-haiku-4-5-20251001-v1:0'],
    [`arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.${SONNET}`, SONNET],
    ['anthropic.claude-sonnet-4-20250514-v1', SONNET],
    ['amazon.nova-lite-v1:0', 'amazon.nova-lite-v1:0'],
  ])('%s is priced as %s', (model, key) => {
    expect(prices.find(model)?.model).toBe(key);
  });

  it('does not confuse a model with a longer-named sibling', () => {
    expect(prices.find('gpt-4o-mini')?.model).toBe('gpt-4o-mini');
    expect(prices.find('gpt-4o-nano')).toBeUndefined();
    expect(modelCandidates('gpt-4o-mini-2024-07-18')).not.toContain('gpt-4o');
  });

  it('returns undefined for an unknown model and warns once per model', () => {
    const logger = spyLogger();
    const table = createPriceTable({ logger });
    expect(table.lookup('my-private-model')).toBeUndefined();
    expect(table.lookup('my-private-model')).toBeUndefined();
    expect(table.lookup('another-model')).toBeUndefined();
    expect(table.lookup('gpt-4o')).toBeDefined();
    expect(logger.warnings.length).toBe(2);
    expect(JSON.stringify(logger.warnings[0])).toContain('my-private-model');
  });

  it('merges config over the defaults: replace and extend', () => {
    const table = createPriceTable({ overrides: { 'gpt-4o': { input: 5, output: 20 }, 'my-model': { input: 1, output: 2, cacheRead: 0.5 } } });
    expect(table.find('gpt-4o-2024-08-06')).toMatchObject({ input: 5_000_000n, output: 20_000_000n, cacheRead: 5_000_000n });
    expect(table.find('my-model')).toMatchObject({ input: 1_000_000n, cacheRead: 500_000n, cacheWrite: 1_000_000n });
    expect(table.find('gpt-4.1')).toBeDefined();
  });

  it('config rejects prices that cannot be exact', () => {
    expect(() => meteringSchema.parse({ prices: { m: { input: 0.0000001, output: 1 } } })).toThrow(/6 decimal places/);
    expect(() => meteringSchema.parse({ prices: { m: { input: -1, output: 1 } } })).toThrow();
  });
});

describe('cost', () => {
  const prices = createPriceTable({});
  const equivalents = createEquivalents({ 'gpt-4o': SONNET, 'gpt-4o-mini': 'anthropic.claude-haiku-4-5-20251001-v1:0' });
  const price = (m: string) => prices.find(m)!;

  it('actual: input, cache read, cache write and output at their prices (hand-computed)', () => {
    // 1000·2.5 + 2000·1.25 + 500·10 = 10000 µ$ → $0.01
    expect(picoToUsdString(actualCost(usage({ input: 1000, cacheRead: 2000, output: 500 }), price('gpt-4o')))).toBe('0.01');
    // 100·3 + 10000·0.3 + 2000·3.75 + 300·15 = 300 + 3000 + 7500 + 4500 = 15300 µ$
    expect(picoToUsdString(actualCost(usage({ input: 100, cacheRead: 10000, cacheWrite: 2000, output: 300 }), price(SONNET)))).toBe('0.0153');
    // 1234·0.165 + 567·0.66 = 203.61 + 374.22 = 577.83 µ$ (a float sum gives 0.0005778299999…)
    expect(picoToUsdString(actualCost(usage({ input: 1234, output: 567 }), price('gpt-4o-mini')))).toBe('0.00057783');
  });

  it('a missing cache price falls back to the input price', () => {
    // nova-lite has no cache prices: 1000·0.06 + 1000·0.06 = 120 µ$
    expect(picoToUsdString(actualCost(usage({ cacheRead: 1000, cacheWrite: 1000 }), price('amazon.nova-lite-v1:0')))).toBe('0.00012');
  });

  it('reasoning tokens are inside output and not billed twice', () => {
    expect(actualCost(usage({ output: 100, reasoning: 80 }), price('gpt-4o'))).toBe(actualCost(usage({ output: 100 }), price('gpt-4o')));
  });

  it('counterfactual of a stateful turn: the whole history re-sent uncached to the stateless equivalent', () => {
    const u = usage({ input: 100, cacheRead: 10000, cacheWrite: 2000, output: 300 });
    // (100+10000+2000)·2.5 + 300·10 = 30250 + 3000 = 33250 µ$
    const c = computeCost({ usage: u, model: `us.${SONNET}`, kind: 'stateful', prices, equivalents });
    expect(c.counterfactualModel).toBe('gpt-4o');
    expect(picoToUsdString(c.counterfactual!)).toBe('0.03325');
    expect(picoToUsdString(c.actual!)).toBe('0.0153');
    expect(statelessResendCost(u, price('gpt-4o'))).toBe(33_250_000_000n);
  });

  it('counterfactual of a stateless call: the first turn on the stateful equivalent, cached tokens at its cache-read price', () => {
    // 1000·3 + 2000·0.3 + 500·15 = 3000 + 600 + 7500 = 11100 µ$
    const c = computeCost({ usage: usage({ input: 1000, cacheRead: 2000, output: 500 }), model: 'gpt-4o-2024-08-06', kind: 'stateless', prices, equivalents });
    expect(c.counterfactualModel).toBe(SONNET);
    expect(picoToUsdString(c.counterfactual!)).toBe('0.0111');
  });

  it('equivalents are looked up in both directions', () => {
    const reversed = createEquivalents({ [SONNET]: 'gpt-4o' });
    expect(reversed.of('gpt-4o', 'stateless')).toBe(SONNET);
    expect(reversed.of(SONNET, 'stateful')).toBe('gpt-4o');
    expect(equivalents.of('gpt-4o-mini-2024-07-18', 'stateless')).toBe('anthropic.claude-haiku-4-5-20251001-v1:0');
  });

  it('unknown price or no equivalent → undefined, never 0', () => {
    const c = computeCost({ usage: usage({ input: 10, output: 10 }), model: 'mystery', kind: 'stateless', prices, equivalents });
    expect(c.actual).toBeUndefined();
    expect(c.counterfactual).toBeUndefined();
    const d = computeCost({ usage: usage({ input: 10, output: 10 }), model: 'gpt-4.1', kind: 'stateless', prices, equivalents });
    expect(d.actual).toBe(100_000_000n);
    expect(d.counterfactual).toBeUndefined();
    const e = computeCost({ usage: usage({ input: 10 }), model: 'gpt-4o', kind: 'stateless', prices: createPriceTable({ defaults: { 'gpt-4o': { input: 1, output: 1 } } }), equivalents });
    expect(e.counterfactual).toBeUndefined(); // equivalent exists, its price does not
  });

  it('sums over many records are exact to the last pico-dollar', () => {
    // 1·0.165 + 1·0.66 = 0.825 µ$ per call; 10 000 calls = $0.00825 exactly
    let total = 0n;
    let float = 0;
    for (let i = 0; i < 10_000; i++) {
      const c = actualCost(usage({ input: 1, output: 1 }), price('gpt-4o-mini'));
      total += c;
      float += picoToUsdNumber(c);
    }
    expect(picoToUsdString(total)).toBe('0.00825');
    expect(float).not.toBe(0.00825); // why money is not summed in floats
  });

  it('the cost calculator answers as computeCost, resolving each model once, for a bounded number of models', () => {
    let lookups = 0;
    const counting = { find: prices.find, lookup: (m: string) => (lookups++, prices.lookup(m)) };
    const calc = createCostCalculator(counting, equivalents);
    const u = usage({ input: 1000, cacheRead: 2000, cacheWrite: 30, output: 500 });
    for (const model of ['gpt-4o-2024-08-06', `us.${SONNET}`, 'mystery', 'gpt-4.1', 'gpt-4o-mini'])
      for (const kind of ['stateless', 'stateful'] as const) {
        const expected = computeCost({ usage: u, model, kind, prices, equivalents });
        expect(calc.cost(u, model, kind)).toEqual(expected);
        const before = lookups;
        expect(calc.cost(u, model, kind)).toEqual(expected);
        expect(lookups).toBe(before); // the second request on a model resolves nothing
      }
    // Model names come from clients and upstreams: past 10 000 of them, new ones are not kept.
    for (let i = 0; i < 10_000; i++) calc.cost(u, `client-model-${i}`, 'stateless');
    const before = lookups;
    calc.cost(u, 'one-more', 'stateless');
    calc.cost(u, 'one-more', 'stateless');
    expect(lookups - before).toBe(2);
    expect(calc.cost(u, 'gpt-4o', 'stateless').actual).toBe(computeCost({ usage: u, model: 'gpt-4o', kind: 'stateless', prices, equivalents }).actual);
  });

  it('rejects impossible token counts instead of guessing', () => {
    expect(() => actualCost(usage({ input: -1 }), price('gpt-4o'))).toThrow(RangeError);
    expect(() => actualCost(usage({ input: 1.5 }), price('gpt-4o'))).toThrow(RangeError);
  });
});
