// Prompt caching as Anthropic models on Bedrock bill it: a `cachePoint` marks the end of a
// cacheable prefix; the longest part of that prefix already cached (within the TTL) is a cache
// read, the rest up to the cachePoint is a cache write, and only what follows is plain input.
// https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html
// Simplification: any block or message boundary inside a written prefix counts as cached (the real
// service keys entries at cache points and looks back ~20 blocks). The per-model minimum prefix
// (1,024 tokens for Claude Sonnet) is `minTokens`, 0 by default so tests stay small; below it the
// request succeeds and nothing is cached, as on Bedrock.
import { hash as digest } from 'node:crypto';
import { validation } from './errors.js';
import type { PromptLayout } from './tokens.js';

/** Anthropic's limit on cache checkpoints per request. */
const MAX_CACHE_POINTS = 4;

export interface CacheAccounting {
  /** Plain input tokens (excludes cache reads and writes, as Bedrock reports them). */
  inputTokens: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

export class PromptCache {
  /** Chained prefix hash → expiry time (ms). */
  private readonly entries = new Map<string, number>();

  constructor(private readonly options: { ttlMs: number; minTokens?: number; now?: () => number }) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  reset(): void {
    this.entries.clear();
  }

  /** Bill one request's prompt and remember the prefix it wrote. */
  account(modelId: string, layout: PromptLayout): CacheAccounting {
    if (layout.cachePrefixLength === undefined) return { inputTokens: layout.totalTokens };
    if (layout.cachePoints > MAX_CACHE_POINTS) {
      throw validation(`A maximum of ${MAX_CACHE_POINTS} blocks with cache_control may be provided. Found ${layout.cachePoints}.`);
    }
    const now = this.now();
    for (const [key, expires] of this.entries) if (expires <= now) this.entries.delete(key);

    // Hash every prefix that ends at a boundary up to the last cache point.
    const hashes: string[] = [];
    const cumulative: number[] = [];
    // One-shot digests (the same values as a Hash object per step): a 500-message prompt hashes 500
    // prefixes, and a Hash object each made this the simulator's largest cost, on the cores the
    // benchmark shares with the gateway.
    let hash = digest('sha256', modelId);
    let tokens = 0;
    for (let i = 0; i < layout.cachePrefixLength; i++) {
      const segment = layout.segments[i]!;
      hash = digest('sha256', `${hash}\u0000${segment.key}`);
      tokens += segment.tokens;
      hashes.push(hash);
      cumulative.push(tokens);
    }
    let hit = -1;
    for (let i = hashes.length - 1; i >= 0; i--) {
      if (this.entries.has(hashes[i]!)) {
        hit = i;
        break;
      }
    }
    const prefixTokens = tokens;
    if (prefixTokens < (this.options.minTokens ?? 0)) {
      return { inputTokens: layout.totalTokens, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 };
    }
    const read = hit >= 0 ? cumulative[hit]! : 0;
    // A read refreshes the entry's TTL, and a write makes the whole prefix readable.
    for (const h of hashes) this.entries.set(h, now + this.options.ttlMs);
    return {
      inputTokens: layout.totalTokens - prefixTokens,
      cacheReadInputTokens: read,
      cacheWriteInputTokens: prefixTokens - read,
    };
  }
}
