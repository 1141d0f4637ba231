// Price table: shipped defaults merged with config overrides, looked up by the model that answered.
//
// Shipped defaults are list prices in USD per 1M tokens taken from LiteLLM's public price table
// (model_prices_and_context_window.json) as collected in shared/reference/PROTOCOLS.md, plus a few
// more from the same table and the providers' pricing pages (Azure OpenAI global deployments;
// Bedrock on-demand, us-east-1). Anthropic models on Bedrock: cache read = 0.1× input, 5-minute
// cache write = 1.25× input. Prices change: override them in `metering.prices`.
//
// Lookup tolerates the spellings upstreams answer with:
//   - an exact key (config first, then defaults), compared case-insensitively;
//   - Bedrock ARNs (`arn:aws:bedrock:…:inference-profile/us.anthropic.…` → the part after the last '/');
//   - Bedrock cross-region inference-profile prefixes (`us.`, `eu.`, `apac.`, `global.`, …);
//   - OpenAI/Azure dated versions (`gpt-4o-2024-08-06` → `gpt-4o`);
//   - a Bedrock id with or without its `:N` revision suffix.
// A model with no price is priced `undefined` (never $0) and warned about once per model.
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { priceSchema } from '../config/metering.js';
import { parseScaled, PRICE_DECIMALS, type Pico } from './money.js';

export type PriceConfig = z.infer<typeof priceSchema>;

/** A resolved price in pico-dollars per token (= micro-dollars per 1M tokens). Cache prices
 * absent from the table fall back to the input price (see cost.ts). */
export interface Price {
  /** The table key that matched. */
  model: string;
  input: Pico;
  output: Pico;
  cacheRead: Pico;
  cacheWrite: Pico;
}

export const DEFAULT_PRICES: Readonly<Record<string, PriceConfig>> = {
  // Azure OpenAI (PROTOCOLS.md / LiteLLM `azure/…`)
  'gpt-4o': { input: 2.5, output: 10, cacheRead: 1.25 },
  'gpt-4.1': { input: 2, output: 8, cacheRead: 0.5 },
  'gpt-4o-mini': { input: 0.165, output: 0.66, cacheRead: 0.075 },
  // Azure OpenAI, same source: the rest of the 4.1 family and the small reasoning models.
  'gpt-4.1-mini': { input: 0.4, output: 1.6, cacheRead: 0.1 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4, cacheRead: 0.025 },
  'o4-mini': { input: 1.1, output: 4.4, cacheRead: 0.275 },
  'o3-mini': { input: 1.1, output: 4.4, cacheRead: 0.55 },
  // Azure OpenAI embeddings (no output tokens).
  'text-embedding-3-small': { input: 0.02, output: 0 },
  'text-embedding-3-large': { input: 0.13, output: 0 },
  // Bedrock (PROTOCOLS.md / LiteLLM `bedrock/…`)
  'anthropic.claude-sonnet-4-20250514-v1:0': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  'anthropic.claude-haiku-4-5-20251001-v1:0': { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 },
  'amazon.nova-lite-v1:0': { input: 0.06, output: 0.24 },
  // Bedrock, same source; Anthropic cache prices by the 0.1× / 1.25× rule.
  'anthropic.claude-sonnet-4-5-20250929-v1:0': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  'anthropic.claude-3-7-sonnet-20250219-v1:0': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  'anthropic.claude-3-5-haiku-20241022-v1:0': { input: 0.8, output: 4, cacheRead: 0.08, cacheWrite: 1 },
  'anthropic.claude-opus-4-1-20250805-v1:0': { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 },
  'amazon.nova-micro-v1:0': { input: 0.035, output: 0.14 },
  'amazon.nova-pro-v1:0': { input: 0.8, output: 3.2 },
};

/** Bedrock cross-region inference-profile prefixes. */
const PROFILE_PREFIX = /^(?:us|eu|apac|global|us-gov|jp|au|ca|sa|mx|ap)\.(?=[a-z0-9-]+\.)/;
/** OpenAI-style dated snapshot suffix. */
const DATED = /-\d{4}-\d{2}-\d{2}$/;
const REVISION = /:\d+$/;

/** The names to try for a model, most specific first. Also used to bound metric labels. */
export function modelCandidates(model: string): string[] {
  const out: string[] = [];
  const add = (m: string) => {
    if (m && !out.includes(m)) out.push(m);
  };
  let m = model.trim().toLowerCase();
  add(m);
  if (m.startsWith('arn:')) m = m.slice(m.lastIndexOf('/') + 1);
  add(m);
  m = m.replace(PROFILE_PREFIX, '');
  add(m);
  for (const base of [...out]) {
    if (DATED.test(base)) add(base.replace(DATED, ''));
    if (REVISION.test(base)) add(base.replace(REVISION, ''));
    else if (base.includes('.')) add(`${base}:0`);
  }
  return out;
}

function toPrice(model: string, p: PriceConfig): Price {
  const input = parseScaled(p.input, PRICE_DECIMALS);
  return {
    model,
    input,
    output: parseScaled(p.output, PRICE_DECIMALS),
    cacheRead: p.cacheRead === undefined ? input : parseScaled(p.cacheRead, PRICE_DECIMALS),
    cacheWrite: p.cacheWrite === undefined ? input : parseScaled(p.cacheWrite, PRICE_DECIMALS),
  };
}

export interface PriceTable {
  /** The price of a model, or undefined (after one warning per model) when none is known. */
  lookup(model: string): Price | undefined;
  /** The price without warning (for tests and the report). */
  find(model: string): Price | undefined;
}

export function createPriceTable(options: { overrides?: Record<string, PriceConfig>; logger?: Logger; defaults?: Record<string, PriceConfig> }): PriceTable {
  const table = new Map<string, Price>();
  for (const [model, p] of Object.entries(options.defaults ?? DEFAULT_PRICES)) table.set(model.toLowerCase(), toPrice(model, p));
  for (const [model, p] of Object.entries(options.overrides ?? {})) table.set(model.toLowerCase(), toPrice(model, p));
  const warned = new Set<string>();
  const cache = new Map<string, Price | null>();

  const find = (model: string): Price | undefined => {
    const hit = cache.get(model);
    if (hit !== undefined) return hit ?? undefined;
    let found: Price | undefined;
    for (const c of modelCandidates(model)) {
      found = table.get(c);
      if (found) break;
    }
    if (cache.size < 10_000) cache.set(model, found ?? null);
    return found;
  };

  return {
    find,
    lookup(model) {
      const price = find(model);
      if (!price && !warned.has(model) && warned.size < 1000) {
        warned.add(model);
        options.logger?.warn({ model }, `no price for model "${model}": its requests are metered in tokens with cost unknown; add it under metering.prices`);
      }
      return price;
    },
  };
}
