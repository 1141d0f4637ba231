import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { sessionsSchema } from '../../src/config/sessions.js';
import { createSessionStore } from '../../src/sessions/index.js';
import { MemorySessionStore } from '../../src/sessions/memory.js';

const logger = pino({ level: 'silent' });

describe('sessions config', () => {
  it('defaults to a memory store with a bounded queue and lock expiry', () => {
    const config = sessionsSchema.parse({});
    expect(config).toMatchObject({
      header: 'x-session-id',
      ttlSeconds: 86_400,
      maxSessionBytes: 8 * 1024 * 1024,
      store: { type: 'memory', maxSessions: 10_000, maxBytes: 256 * 1024 * 1024 },
      lock: { maxQueue: 8, waitMs: 30_000, ttlMs: 120_000 },
    });
  });

  it('fills Redis defaults', () => {
    const config = sessionsSchema.parse({ store: { type: 'redis', url: 'redis://localhost:6379' } });
    expect(config.store).toEqual({ type: 'redis', url: 'redis://localhost:6379', keyPrefix: 'stateroute:', commandTimeoutMs: 1_000, connectTimeoutMs: 2_000 });
  });

  it.each([
    [{ store: { type: 'memory', maxBytes: 1_000 } }, /store\.maxBytes.*maxSessionBytes/],
    [{ store: { type: 'redis', url: 'redis://x', keyPrefix: 'a{b}' } }, /keyPrefix/],
    [{ store: { type: 'redis', url: 'http://x' } }, /redis:\/\//],
    [{ store: { type: 'postgres' } }, /store/],
    [{ lock: { maxQueue: -1 } }, /lock\.maxQueue/],
    [{ ttlSeconds: 0 }, /ttlSeconds/],
    [{ ttlSecs: 5 }, /ttlSecs/],
  ])('rejects %j', (input, message) => {
    const result = sessionsSchema.safeParse(input);
    expect(result.success).toBe(false);
    const text = result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    expect(text).toMatch(message);
  });
});

describe('createSessionStore', () => {
  it('builds the memory store from config', async () => {
    const store = createSessionStore(sessionsSchema.parse({ store: { type: 'memory', maxSessions: 2, maxBytes: 16 * 1024 * 1024 } }), logger);
    expect(store).toBeInstanceOf(MemorySessionStore);
    for (const id of ['a', 'b', 'c']) await store.commit({ tenant: 't', id }, { keep: 0, append: [{ role: 'user', content: id }] });
    expect(await store.load({ tenant: 't', id: 'a' })).toBeUndefined(); // maxSessions reached the cache
    expect((await store.stats()).sessions).toBe(2);
    await store.close();
  });

  it('passes lock settings through', async () => {
    const store = createSessionStore(sessionsSchema.parse({ lock: { maxQueue: 0, waitMs: 1_000, ttlMs: 1_000 } }), logger);
    const key = { tenant: 't', id: 'x' };
    const unlock = await store.lock(key);
    await expect(store.lock(key)).rejects.toMatchObject({ status: 409, code: 'session_busy' });
    await unlock();
    await store.close();
  });
});

describe('SessionStore as the Responses API document store', () => {
  it('fits the positional DocumentStore shape the Responses code expects', async () => {
    interface DocumentStore {
      putDocument(tenant: string, kind: 'response', id: string, doc: unknown, ttlSeconds: number): Promise<void>;
      getDocument(tenant: string, kind: 'response', id: string): Promise<unknown | undefined>;
      deleteDocument(tenant: string, kind: 'response', id: string): Promise<boolean>;
    }
    const docs: DocumentStore = createSessionStore(sessionsSchema.parse({}), logger);
    await docs.putDocument('t', 'response', 'resp_1', { ok: true }, 30 * 24 * 3600);
    expect(await docs.getDocument('t', 'response', 'resp_1')).toEqual({ ok: true });
  });
});
