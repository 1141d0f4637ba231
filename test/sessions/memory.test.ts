import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemorySessionStore, type MemoryStoreOptions } from '../../src/sessions/memory.js';
import { assistant, sessionStoreContract, user } from './contract.js';

const defaults = (over: Partial<MemoryStoreOptions> = {}): MemoryStoreOptions => ({
  ttlMs: 60_000,
  maxSessionBytes: 1024 * 1024,
  maxEntries: 1_000,
  maxBytes: 64 * 1024 * 1024,
  lock: { maxQueue: 8, waitMs: 5_000, ttlMs: 60_000 },
  ...over,
});

sessionStoreContract('memory', async (o) =>
  new MemorySessionStore(
    defaults({
      ...(o.ttlMs !== undefined && { ttlMs: o.ttlMs }),
      ...(o.maxSessionBytes !== undefined && { maxSessionBytes: o.maxSessionBytes }),
      ...(o.now && { now: o.now }),
      lock: { maxQueue: 8, waitMs: 5_000, ttlMs: 60_000, ...o.lock },
    }),
  ),
);

describe('memory session store', () => {
  afterEach(() => vi.restoreAllMocks());
  const key = (id: string) => ({ tenant: 't', id });

  it('evicts the least recently used session past maxEntries', async () => {
    const store = new MemorySessionStore(defaults({ maxEntries: 3 }));
    for (const id of ['a', 'b', 'c']) await store.commit(key(id), { keep: 0, append: [user(id)] });
    await store.load(key('a')); // now b is the least recently used
    await store.commit(key('d'), { keep: 0, append: [user('d')] });
    expect(await store.load(key('b'))).toBeUndefined();
    for (const id of ['a', 'c', 'd']) expect(await store.load(key(id))).toBeDefined();
    expect((await store.stats()).sessions).toBe(3);
  });

  it('evicts by bytes, and a session that grows counts its new size', async () => {
    const big = 'x'.repeat(3_000);
    // Room for three sessions of one big message, not four.
    const store = new MemorySessionStore(defaults({ maxSessionBytes: 8_000, maxBytes: 10_500 }));
    for (const id of ['a', 'b', 'c']) await store.commit(key(id), { keep: 0, append: [user(big)] });
    expect((await store.stats()).sessions).toBe(3);
    await store.commit(key('d'), { keep: 0, append: [user(big)] });
    expect(await store.load(key('a'))).toBeUndefined();
    expect((await store.stats()).sessions).toBe(3);

    // d grows to two big messages: with its new size counted, only one other session still fits.
    await store.load(key('c'));
    await store.commit(key('d'), { keep: 1, append: [assistant(big)] });
    const alive = [];
    for (const id of ['b', 'c', 'd']) if (await store.load(key(id))) alive.push(id);
    expect(alive).toEqual(['c', 'd']);
    const stats = await store.stats();
    expect(stats.sessions).toBe(2);
    expect(stats.bytes).toBeLessThanOrEqual(10_500);
  });

  it('counts a session the same way as the Redis store: message JSON + hash, plus a fixed overhead in the cache', async () => {
    const store = new MemorySessionStore(defaults());
    const meta = await store.commit(key('a'), { keep: 0, append: [user('héllo')] });
    expect(meta.bytes).toBe(Buffer.byteLength(JSON.stringify(user('héllo'))) + 64);
    expect((await store.stats()).bytes).toBe(meta.bytes + 256);
  });

  it('appends without touching the stored history: the same work at 10 and at 2,000 messages', async () => {
    const store = new MemorySessionStore(defaults({ maxSessionBytes: 16 * 1024 * 1024 }));
    const history = (n: number) => Array.from({ length: n }, (_, i) => (i % 2 ? assistant(`answer ${i} `.repeat(20)) : user(`question ${i}`)));
    const measure = async (id: string, n: number) => {
      await store.commit(key(id), { keep: 0, append: history(n) });
      const stringify = vi.spyOn(JSON, 'stringify');
      const parse = vi.spyOn(JSON, 'parse');
      await store.commit(key(id), { keep: n, append: [user('one more'), assistant('sure')], expectedLength: n });
      const touched = {
        stringifyCalls: stringify.mock.calls.length,
        stringifyBytes: stringify.mock.results.reduce((sum, r) => sum + String(r.value).length, 0),
        parseCalls: parse.mock.calls.length,
      };
      vi.restoreAllMocks();
      return touched;
    };
    const small = await measure('small', 10);
    const large = await measure('large', 2_000);
    expect(small.stringifyCalls).toBeGreaterThan(0);
    expect(large).toEqual(small);
  });

  it('hands out frozen messages, so a caller cannot change stored history by mutation', async () => {
    const store = new MemorySessionStore(defaults());
    await store.commit(key('a'), { keep: 0, append: [user('hi')] });
    const loaded = await store.load(key('a'));
    expect(() => {
      (loaded!.messages[0] as Record<string, unknown>).content = 'changed';
    }).toThrow(TypeError);
  });

  it('grants a busy lock to waiters in arrival order', async () => {
    const store = new MemorySessionStore(defaults());
    const k = key('fifo');
    const unlock = await store.lock(k);
    const order: number[] = [];
    const waiters = [1, 2, 3, 4, 5].map((n) => store.lock(k).then(async (release) => (order.push(n), release())));
    await unlock();
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3, 4, 5]);
  });

  it('refuses options that could not hold one full session', () => {
    expect(() => new MemorySessionStore(defaults({ maxSessionBytes: 1_000, maxBytes: 1_000 }))).toThrow(/maxBytes/);
  });

  it('drops a session from the count when it expires', async () => {
    const store = new MemorySessionStore(defaults({ ttlMs: 50 }));
    await store.commit(key('a'), { keep: 0, append: [user('hi')] });
    expect((await store.stats()).sessions).toBe(1);
    await new Promise((r) => setTimeout(r, 80));
    expect((await store.stats()).sessions).toBe(0);
  });
});
