// Cost of one request, actual and counterfactual, in exact integer pico-dollars (money.ts).
//
// Notation: Usage has input (excluding cache), cacheRead, cacheWrite, output tokens; a price has
// pIn, pOut, pCacheRead, pCacheWrite in USD per 1M tokens. A cache price missing from the table
// falls back to pIn (a model without caching bills every prompt token at the input price).
//
//   actual          = (input·pIn + cacheRead·pCacheRead + cacheWrite·pCacheWrite + output·pOut) / 1e6
//                     on the model that answered.
//
// Counterfactual: what the same request would have cost on the other backend. `equivalents` maps
// a stateless model to a stateful one; the model that answered is looked up in both directions.
//
//   stateful turn   → a stateless call on the equivalent that re-sends the whole history uncached:
//     counterfactual = ((input + cacheRead + cacheWrite)·pIn' + output·pOut') / 1e6
//   stateless call  → the first turn of a session on the stateful equivalent, cache tokens billed
//                     as that model bills them:
//     counterfactual = (input·pIn' + cacheRead·pCacheRead' + cacheWrite·pCacheWrite' + output·pOut') / 1e6
//
// where ' marks the equivalent's prices. Unknown price (either model) or no equivalent → undefined,
// never 0. Reasoning tokens are part of output and are not billed twice.
//
// Exactness: a price has at most 6 decimals (the config rejects more), so P USD per 1M tokens is
// the integer P·1e6 pico-dollars (1e-12 USD) per token; every product and sum above is an exact
// integer (bigint). Nothing is rounded: the ledger stores the exact amount (≤ 12 decimals), the
// report sums exactly and rounds only for display (table: 6 decimals; csv/json: exact).
import type { BackendKind, Usage } from '../backends/types.js';
import { modelCandidates, type Price, type PriceTable } from './prices.js';
import type { Pico } from './money.js';

const n = (tokens: number): bigint => {
  if (!Number.isSafeInteger(tokens) || tokens < 0) throw new RangeError(`token count must be a non-negative integer, got ${tokens}`);
  return BigInt(tokens);
};

/** Pico-dollars: tokens × (pico-dollars per token). */
export function actualCost(usage: Usage, price: Price): Pico {
  return n(usage.input) * price.input + n(usage.cacheRead) * price.cacheRead + n(usage.cacheWrite) * price.cacheWrite + n(usage.output) * price.output;
}

/** A stateful turn re-sent uncached to a stateless model. */
export function statelessResendCost(usage: Usage, price: Price): Pico {
  return (n(usage.input) + n(usage.cacheRead) + n(usage.cacheWrite)) * price.input + n(usage.output) * price.output;
}

/** A stateless call as the first turn of a session on a stateful model. */
export const statefulFirstTurnCost = actualCost;

export interface Equivalents {
  /** The model on the other side, or undefined. */
  of(model: string, kind: BackendKind): string | undefined;
}

export function createEquivalents(map: Record<string, string>): Equivalents {
  const forward = new Map<string, string>();
  const backward = new Map<string, string>();
  for (const [stateless, stateful] of Object.entries(map)) {
    forward.set(stateless.toLowerCase(), stateful);
    backward.set(stateful.toLowerCase(), stateless);
  }
  const find = (m: Map<string, string>, model: string) => {
    for (const c of modelCandidates(model)) {
      const hit = m.get(c);
      if (hit) return hit;
    }
    return undefined;
  };
  return {
    of(model, kind) {
      // The natural direction first; the other still answers a config written the other way round.
      return kind === 'stateless' ? (find(forward, model) ?? find(backward, model)) : (find(backward, model) ?? find(forward, model));
    },
  };
}

export interface CostResult {
  actual: Pico | undefined;
  counterfactual: Pico | undefined;
  /** The model the counterfactual was priced on. */
  counterfactualModel: string | undefined;
}

/** What pricing one model on one kind of backend needs: its price, its equivalent and that one's price. */
interface ModelPricing {
  price: Price | undefined;
  other: string | undefined;
  otherPrice: Price | undefined;
}

function modelPricing(model: string, kind: BackendKind, prices: PriceTable, equivalents: Equivalents): ModelPricing {
  const price = prices.lookup(model);
  const other = equivalents.of(model, kind);
  return { price, other, otherPrice: other === undefined ? undefined : prices.lookup(other) };
}

function costOf(usage: Usage, kind: BackendKind, p: ModelPricing): CostResult {
  return {
    actual: p.price && actualCost(usage, p.price),
    counterfactual: p.otherPrice && (kind === 'stateful' ? statelessResendCost(usage, p.otherPrice) : statefulFirstTurnCost(usage, p.otherPrice)),
    counterfactualModel: p.other,
  };
}

export function computeCost(options: { usage: Usage; model: string; kind: BackendKind; prices: PriceTable; equivalents: Equivalents }): CostResult {
  const { usage, model, kind, prices, equivalents } = options;
  return costOf(usage, kind, modelPricing(model, kind, prices, equivalents));
}

/** Models whose pricing is remembered; model names come from upstreams and clients, so past this
 * many the rest are resolved on each request (correct, only slower). */
const MAX_CACHED_MODELS = 10_000;

export interface CostCalculator {
  /** computeCost with the calculator's prices and equivalents. */
  cost(usage: Usage, model: string, kind: BackendKind): CostResult;
}

/** computeCost for one price table and one set of equivalents, resolving each model's prices and
 * equivalent once (the resolution tries several spellings of the name: see modelCandidates). */
export function createCostCalculator(prices: PriceTable, equivalents: Equivalents): CostCalculator {
  const stateless = new Map<string, ModelPricing>();
  const stateful = new Map<string, ModelPricing>();
  return {
    cost(usage, model, kind) {
      const cache = kind === 'stateful' ? stateful : stateless;
      let p = cache.get(model);
      if (p === undefined) {
        p = modelPricing(model, kind, prices, equivalents);
        if (cache.size < MAX_CACHED_MODELS) cache.set(model, p);
      }
      return costOf(usage, kind, p);
    },
  };
}
