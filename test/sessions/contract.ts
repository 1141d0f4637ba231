// The SessionStore contract: every implementation runs this suite (memory.test.ts, redis.test.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/backends/types.js';
import { GatewayError } from '../../src/errors.js';
import { chainHashes, HASH_LENGTH } from '../../src/sessions/hash.js';
import type { SessionKey, SessionStore, StoreCommonOptions } from '../../src/sessions/store.js';

export interface ContractOptions {
  ttlMs?: number;
  maxSessionBytes?: number;
  lock?: Partial<StoreCommonOptions['lock']>;
  now?: () => number;
}

/** Builds a store for one test; the suite closes it afterwards. Stores built by one factory within
 * one test share data (two replicas of one gateway). */
export type StoreFactory = (options: ContractOptions) => Promise<SessionStore>;

export const user = (text: string): ChatMessage => ({ role: 'user', content: text });
export const assistant = (text: string): ChatMessage => ({ role: 'assistant', content: text });
const storedBytes = (messages: ChatMessage[]) => messages.reduce((n, m) => n + Buffer.byteLength(JSON.stringify(m)) + HASH_LENGTH, 0);

/** Expects `promise` to reject with a GatewayError with this status and code. */
export async function expectGatewayError(promise: Promise<unknown>, status: number, code: string): Promise<GatewayError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a ${status} ${code} GatewayError`).toBeInstanceOf(GatewayError);
  const g = err as GatewayError;
  expect({ status: g.status, code: g.code }).toEqual({ status, code });
  return g;
}

let counter = 0;
const freshKey = (tenant = 'acme'): SessionKey => ({ tenant, id: `sess-${process.pid}-${++counter}` });

export function sessionStoreContract(name: string, factory: StoreFactory): void {
  describe(`SessionStore contract: ${name}`, () => {
    const open: SessionStore[] = [];
    const make = async (options: ContractOptions = {}) => {
      const store = await factory(options);
      open.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });

    describe('load / commit / delete', () => {
      it('loads nothing for a session that was never written', async () => {
        const store = await make();
        expect(await store.load(freshKey())).toBeUndefined();
      });

      it('creates a session on the first commit and appends on the next', async () => {
        let clock = 1_000;
        const store = await make({ now: () => clock });
        const key = freshKey();
        const first = [{ role: 'system', content: 'be brief' }, user('hi'), assistant('hello')];
        const meta1 = await store.commit(key, { keep: 0, append: first, expectedLength: 0 });
        expect(meta1).toEqual({ length: 3, turns: 1, createdAt: 1_000, updatedAt: 1_000, bytes: storedBytes(first) });

        clock = 2_000;
        const second = [user('how are you?'), assistant('fine')];
        const meta2 = await store.commit(key, { keep: 3, append: second, expectedLength: 3 });
        expect(meta2).toEqual({ length: 5, turns: 2, createdAt: 1_000, updatedAt: 2_000, bytes: storedBytes([...first, ...second]) });

        const loaded = await store.load(key);
        expect(loaded).toEqual({ ...meta2, messages: [...first, ...second], hashes: chainHashes([...first, ...second]) });
      });

      it('forks: truncates to keep, then appends, and re-chains the hashes', async () => {
        const store = await make();
        const key = freshKey();
        const history = [user('u1'), assistant('a1'), user('u2'), assistant('a2')];
        await store.commit(key, { keep: 0, append: history });
        const meta = await store.commit(key, { keep: 2, append: [user('u2 edited'), assistant('a2 again')], expectedLength: 4 });
        const expected = [user('u1'), assistant('a1'), user('u2 edited'), assistant('a2 again')];
        expect(meta).toMatchObject({ length: 4, turns: 2, bytes: storedBytes(expected) });
        const loaded = await store.load(key);
        expect(loaded?.messages).toEqual(expected);
        expect(loaded?.hashes).toEqual(chainHashes(expected));
        expect(loaded?.bytes).toBe(storedBytes(expected));
      });

      it('forks to nothing (keep 0) and can commit an empty turn', async () => {
        const store = await make();
        const key = freshKey();
        await store.commit(key, { keep: 0, append: [user('a'), assistant('b')] });
        expect(await store.commit(key, { keep: 0, append: [] })).toMatchObject({ length: 0, turns: 2, bytes: 0 });
        expect(await store.load(key)).toMatchObject({ length: 0, messages: [], hashes: [], turns: 2 });
        await store.commit(key, { keep: 0, append: [user('c')] });
        expect((await store.load(key))?.hashes).toEqual(chainHashes([user('c')]));
      });

      it('rejects a commit whose keep or expectedLength no longer matches, changing nothing', async () => {
        const store = await make();
        const key = freshKey();
        await store.commit(key, { keep: 0, append: [user('u1'), assistant('a1')] });
        const before = await store.load(key);
        await expectGatewayError(store.commit(key, { keep: 3, append: [user('x')] }), 409, 'session_conflict');
        await expectGatewayError(store.commit(key, { keep: 2, append: [user('x')], expectedLength: 1 }), 409, 'session_conflict');
        await expectGatewayError(store.commit(freshKey(), { keep: 1, append: [user('x')] }), 409, 'session_conflict');
        expect(await store.load(key)).toEqual(before);
      });

      it('rejects a commit past maxSessionBytes with 413, changing nothing', async () => {
        const store = await make({ maxSessionBytes: 2_000 });
        const key = freshKey();
        await store.commit(key, { keep: 0, append: [user('x'.repeat(900))] });
        const before = await store.load(key);
        await expectGatewayError(store.commit(key, { keep: 1, append: [assistant('y'.repeat(1_200))] }), 413, 'session_too_large');
        expect(await store.load(key)).toEqual(before);
        // A fork that drops enough fits again.
        await store.commit(key, { keep: 0, append: [assistant('y'.repeat(1_200))] });
      });

      it('deletes a session once', async () => {
        const store = await make();
        const key = freshKey();
        await store.commit(key, { keep: 0, append: [user('hi')] });
        expect(await store.delete(key)).toBe(true);
        expect(await store.load(key)).toBeUndefined();
        expect(await store.delete(key)).toBe(false);
      });

      it('keeps its own copies: mutating what was committed or loaded changes nothing stored', async () => {
        const store = await make();
        const key = freshKey();
        const message = { role: 'user', content: [{ type: 'text', text: 'original' }] } as ChatMessage;
        await store.commit(key, { keep: 0, append: [message] });
        (message.content as { text: string }[])[0]!.text = 'changed by the caller';
        const loaded = await store.load(key);
        try {
          (loaded!.messages[0]!.content as { text: string }[])[0]!.text = 'changed after load';
        } catch {
          // A frozen copy refusing the change is fine too.
        }
        (loaded!.messages as ChatMessage[]).push(user('pushed'));
        const again = await store.load(key);
        expect(again?.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'original' }] }]);
      });

      it('reports stats and readiness', async () => {
        const store = await make();
        expect((await store.stats()).type).toBe(store.type);
        await expect(store.ping()).resolves.toBeUndefined();
      });
    });

    describe('TTL', () => {
      it('expires an idle session and refreshes the TTL on load and commit', async () => {
        // Margins of 250 ms or more either way, so a loaded machine's late timers do not flake it.
        const store = await make({ ttlMs: 600 });
        const key = freshKey();
        await store.commit(key, { keep: 0, append: [user('hi')] });
        await sleep(300);
        expect(await store.load(key)).toBeDefined(); // refreshed: now lives until ~900
        await sleep(350);
        expect(await store.load(key)).toBeDefined(); // 650 ms after the commit: alive only thanks to the refresh
        await store.commit(key, { keep: 1, append: [assistant('hello')] });
        await sleep(300);
        expect((await store.load(key))?.length).toBe(2);
        await sleep(850);
        expect(await store.load(key)).toBeUndefined();
      });
    });

    describe('tenant isolation', () => {
      it('another tenant with the same id cannot load, commit to, delete or lock the session', async () => {
        const store = await make({ lock: { maxQueue: 0 } });
        const a = freshKey('tenant-a');
        const b: SessionKey = { tenant: 'tenant-b', id: a.id };
        await store.commit(a, { keep: 0, append: [user('secret of a'), assistant('ok')] });
        const before = await store.load(a);

        expect(await store.load(b)).toBeUndefined();
        await expectGatewayError(store.commit(b, { keep: 2, append: [user('appended by b')] }), 409, 'session_conflict');
        expect(await store.delete(b)).toBe(false);
        const unlockA = await store.lock(a);
        const unlockB = await store.lock(b); // not blocked by A's lock (maxQueue 0 would 409)
        await unlockB();
        await unlockA();

        // B's own session with that id is separate.
        await store.commit(b, { keep: 0, append: [user('b')] });
        expect(await store.delete(b)).toBe(true);
        expect(await store.load(a)).toEqual(before);
      });

      it('ids and tenants containing separators do not collide', async () => {
        const store = await make();
        // Same suffix on every id so only the separators differ.
        const suffix = `-${process.pid}-${++counter}`;
        const same = [
          { tenant: 'a', id: `b:c${suffix}` },
          { tenant: 'a:b', id: `c${suffix}` },
          { tenant: 'a', id: `b%3Ac${suffix}` },
          { tenant: '1:a', id: `b${suffix}` },
          { tenant: '1', id: `a:b${suffix}` },
          { tenant: 'a', id: `b}:{c${suffix}` },
          { tenant: 'a', id: `b}:{c${suffix}:msgs` },
        ];
        for (const [i, key] of same.entries()) await store.commit(key, { keep: 0, append: [user(`owner ${i}`)] });
        for (const [i, key] of same.entries()) expect((await store.load(key))?.messages).toEqual([user(`owner ${i}`)]);
        for (const key of same) await store.delete(key);
      });

      it('another tenant cannot read or delete a document', async () => {
        const store = await make();
        const id = `resp_${process.pid}_${++counter}`;
        await store.putDocument('tenant-a', 'response', id, { id, output: 'a' }, 60);
        expect(await store.getDocument('tenant-b', 'response', id)).toBeUndefined();
        expect(await store.deleteDocument('tenant-b', 'response', id)).toBe(false);
        expect(await store.getDocument('tenant-a', 'response', id)).toEqual({ id, output: 'a' });
        await store.deleteDocument('tenant-a', 'response', id);
      });
    });

    describe('lock', () => {
      const turn = async (store: SessionStore, key: SessionKey, i: number) => {
        const unlock = await store.lock(key);
        try {
          const s = await store.load(key);
          const length = s?.length ?? 0;
          await sleep(Math.random() * 5); // the upstream call
          await store.commit(key, { keep: length, append: [user(`q${i}`), assistant(`a${i}`)], expectedLength: length });
        } finally {
          await unlock();
        }
      };

      const expectAllTurnsIntact = async (store: SessionStore, key: SessionKey, turns: number) => {
        const s = await store.load(key);
        expect(s?.turns).toBe(turns);
        const messages = s!.messages;
        expect(messages).toHaveLength(2 * turns);
        const seen = new Set<string>();
        for (let t = 0; t < turns; t++) {
          const q = messages[2 * t]!.content as string;
          const a = messages[2 * t + 1]!.content as string;
          expect(a, `turn ${t} intact`).toBe(q.replace('q', 'a'));
          seen.add(q);
        }
        expect(seen.size).toBe(turns);
        expect(s!.hashes).toEqual(chainHashes(messages));
      };

      it('serialises 20 concurrent turns on one session: every turn is stored whole', async () => {
        const store = await make({ lock: { maxQueue: 32, waitMs: 10_000 } });
        const key = freshKey();
        await Promise.all(Array.from({ length: 20 }, (_, i) => turn(store, key, i)));
        await expectAllTurnsIntact(store, key, 20);
      });

      it('without the lock the same turns collide (the check above can fail)', async () => {
        const store = await make();
        const key = freshKey();
        const unlocked = async (i: number) => {
          const length = (await store.load(key))?.length ?? 0;
          await sleep(5);
          await store.commit(key, { keep: length, append: [user(`q${i}`), assistant(`a${i}`)], expectedLength: length });
        };
        const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => unlocked(i)));
        expect(results.filter((r) => r.status === 'rejected').length).toBeGreaterThan(0);
      });

      it('queues up to maxQueue waiters and refuses the next with 409 session_busy', async () => {
        const store = await make({ lock: { maxQueue: 2, waitMs: 5_000 } });
        const key = freshKey();
        const unlock = await store.lock(key);
        const order: number[] = [];
        const waiters = [1, 2].map((n) =>
          store.lock(key).then(async (release) => {
            order.push(n);
            await sleep(10);
            await release();
          }),
        );
        await sleep(100); // both waiters registered
        const err = await expectGatewayError(store.lock(key), 409, 'session_busy');
        expect(err.type).toBe('conflict_error');
        expect(err.message).toMatch(/in progress/);
        await unlock();
        await Promise.all(waiters);
        expect(order.sort()).toEqual([1, 2]);
        // The queue has drained: the lock is free again.
        await (await store.lock(key, { maxQueue: 0 }))();
      });

      it('does not let a newcomer overtake a waiter when the lock is released', async () => {
        const store = await make();
        const key = freshKey();
        const unlock = await store.lock(key);
        const waiter = store.lock(key);
        await sleep(50); // queued
        await unlock();
        // Free for an instant, but someone is waiting: the newcomer (no queue allowed) is refused.
        await expectGatewayError(store.lock(key, { maxQueue: 0 }), 409, 'session_busy');
        await (await waiter)();
      });

      it('gives up after waitMs with 409 session_busy', async () => {
        const store = await make();
        const key = freshKey();
        const unlock = await store.lock(key);
        const started = performance.now();
        await expectGatewayError(store.lock(key, { waitMs: 150 }), 409, 'session_busy');
        const waited = performance.now() - started;
        expect(waited).toBeGreaterThanOrEqual(140);
        expect(waited).toBeLessThan(1_000);
        await unlock();
      });

      it('expires a lock after ttlMs; the stale holder cannot release its successor', async () => {
        const store = await make();
        const key = freshKey();
        const staleUnlock = await store.lock(key, { ttlMs: 150 });
        const started = performance.now();
        const unlock = await store.lock(key, { waitMs: 3_000, ttlMs: 10_000 });
        expect(performance.now() - started).toBeGreaterThanOrEqual(100);
        await staleUnlock(); // no-op: that lock is gone
        await expectGatewayError(store.lock(key, { maxQueue: 0 }), 409, 'session_busy');
        await unlock();
        await unlock(); // idempotent
        await (await store.lock(key, { maxQueue: 0 }))();
      });

      it('keeps a lock past ttlMs while its holder runs (holdMs), then frees it at holdMs', async () => {
        const store = await make();
        const key = freshKey();
        const unlock = await store.lock(key, { ttlMs: 150, holdMs: 5_000 });
        await sleep(450); // three ttls: without renewal the lock would be gone
        await expectGatewayError(store.lock(key, { waitMs: 100 }), 409, 'session_busy');
        await unlock();
        await (await store.lock(key, { maxQueue: 0 }))();

        const bounded = freshKey();
        await store.lock(bounded, { ttlMs: 100, holdMs: 250 }); // never released: a stuck holder
        const started = performance.now();
        const next = await store.lock(bounded, { waitMs: 3_000 });
        expect(performance.now() - started).toBeGreaterThanOrEqual(150);
        await next();
      });

      it('stops waiting when the signal aborts', async () => {
        const store = await make();
        const key = freshKey();
        const unlock = await store.lock(key);
        const controller = new AbortController();
        const waiting = store.lock(key, { signal: controller.signal });
        setTimeout(() => controller.abort(new Error('client went away')), 30);
        await expect(waiting).rejects.toThrow('client went away');
        await unlock();
        // The aborted waiter left the queue: one slot is enough for the next.
        const u2 = await store.lock(key, { maxQueue: 0 });
        await u2();
      });
    });

    describe('documents', () => {
      it('puts, gets a fresh copy, and deletes', async () => {
        const store = await make();
        const id = `resp_${process.pid}_${++counter}`;
        const doc = { id, object: 'response', output: [{ type: 'message', content: [{ type: 'output_text', text: 'hi' }] }] };
        await store.putDocument('acme', 'response', id, doc, 60);
        const got = (await store.getDocument('acme', 'response', id)) as typeof doc;
        expect(got).toEqual(doc);
        got.output.length = 0;
        expect(await store.getDocument('acme', 'response', id)).toEqual(doc);
        expect(await store.deleteDocument('acme', 'response', id)).toBe(true);
        expect(await store.getDocument('acme', 'response', id)).toBeUndefined();
        expect(await store.deleteDocument('acme', 'response', id)).toBe(false);
      });

      it('expires a document after its ttl, reads do not extend it', async () => {
        const store = await make();
        const id = `resp_${process.pid}_${++counter}`;
        await store.putDocument('acme', 'response', id, { n: 1 }, 0.5);
        await sleep(200);
        expect(await store.getDocument('acme', 'response', id)).toEqual({ n: 1 });
        await sleep(400); // past the TTL counted from the put, not yet past one counted from the read
        expect(await store.getDocument('acme', 'response', id)).toBeUndefined();
      });

      it('rejects a document over maxSessionBytes with 413', async () => {
        const store = await make({ maxSessionBytes: 1_000 });
        await expectGatewayError(store.putDocument('acme', 'response', `resp_${++counter}`, { text: 'x'.repeat(2_000) }, 60), 413, 'document_too_large');
      });
    });
  });
}
