// Redis session store, shared by every gateway replica.
//
// Keys (tenant and id URI-encoded, so a ":" or "{" in an id cannot collide across tenants; the
// braces are a Redis Cluster hash tag keeping one session's keys in one slot):
//   {prefix}s:{<tenant>:<id>}:msgs    list of message JSON
//   {prefix}s:{<tenant>:<id>}:hashes  list of chain hashes, parallel to msgs
//   {prefix}s:{<tenant>:<id>}:meta    hash: turns, createdAt, updatedAt, bytes
//   {prefix}s:{<tenant>:<id>}:lock    SET NX PX token
//   {prefix}s:{<tenant>:<id>}:q       waiter count (INCR/DECR, expiring); a newcomer queues behind waiters
//   {prefix}d:<tenant>:<kind>:<id>    stored document JSON, PX ttl
// A commit is one Lua script (RPUSH of the new messages, LTRIM only on a fork, meta update, PEXPIRE),
// atomic with its expectedLength check. Any Redis failure becomes 503 session_store_unavailable with
// retry-after; commands fail fast (no offline queue retries, a command timeout) so a dead Redis never
// hangs a turn and stateless traffic never touches it.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ChatMessage } from '../backends/types.js';
import { isGatewayError } from '../errors.js';
import { chainHashes } from './hash.js';
import { arriveScript, commitScript, dequeueScript, enqueueScript, releaseScript, renewScript } from './redis-scripts.js';
import {
  assertCommitInput,
  documentTooLarge,
  lockOptions,
  sessionBusy,
  sessionConflict,
  sessionTooLarge,
  storeUnavailable,
  type CommitInput,
  type DocumentKind,
  type LockOptions,
  type SessionKey,
  type SessionMeta,
  type SessionStore,
  type SessionStoreStats,
  type StoreCommonOptions,
  type StoredSession,
  type Unlock,
} from './store.js';

export interface RedisStoreOptions extends StoreCommonOptions {
  url: string;
  keyPrefix: string;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  logger: Logger;
}

/** Lock polling back-off: jittered, doubling from MIN to MAX. */
const POLL_MIN_MS = 5;
const POLL_MAX_MS = 50;

interface SessionKeys {
  msgs: string;
  hashes: string;
  meta: string;
  lock: string;
  q: string;
}

export class RedisSessionStore implements SessionStore {
  readonly type = 'redis';
  readonly #redis: Redis;
  readonly #options: RedisStoreOptions;
  readonly #now: () => number;
  readonly #log: Logger;
  #lastError: string | undefined;

  constructor(options: RedisStoreOptions) {
    if (/[{}]/.test(options.keyPrefix)) throw new TypeError(`redis session store: keyPrefix must not contain "{" or "}" (they are Redis Cluster hash tags), got "${options.keyPrefix}"`);
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#log = options.logger.child({ store: 'redis' });
    this.#redis = new Redis(options.url, {
      commandTimeout: options.commandTimeoutMs,
      connectTimeout: options.connectTimeoutMs,
      // Commands issued while (re)connecting fail at the first failed attempt instead of waiting.
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
      lazyConnect: false,
    });
    this.#redis.on('error', (err: Error) => {
      // Once per distinct error until the connection is back, not once per reconnect attempt.
      if (err.message === this.#lastError) return;
      this.#lastError = err.message;
      this.#log.warn({ err: err.message }, 'session store: Redis connection error');
    });
    this.#redis.on('ready', () => {
      if (this.#lastError !== undefined) this.#log.info('session store: Redis connection restored');
      this.#lastError = undefined;
    });
  }

  async load(key: SessionKey): Promise<StoredSession | undefined> {
    const k = this.#keys(key);
    const ttl = this.#options.ttlMs;
    const replies = await this.#run(() =>
      this.#redis.multi().lrange(k.msgs, 0, -1).lrange(k.hashes, 0, -1).hgetall(k.meta).pexpire(k.msgs, ttl).pexpire(k.hashes, ttl).pexpire(k.meta, ttl).exec(),
    );
    const [msgs, hashes, meta] = results(replies) as [string[], string[], Record<string, string>];
    if (!meta || meta.turns === undefined) return undefined;
    if (msgs.length !== hashes.length) throw sessionConflict(`stored history has ${msgs.length} messages but ${hashes.length} hashes`);
    return {
      length: msgs.length,
      turns: Number(meta.turns),
      createdAt: Number(meta.createdAt),
      updatedAt: Number(meta.updatedAt),
      bytes: Number(meta.bytes),
      messages: msgs.map((m) => JSON.parse(m) as ChatMessage),
      hashes,
    };
  }

  async commit(key: SessionKey, input: CommitInput): Promise<SessionMeta> {
    assertCommitInput(input);
    const k = this.#keys(key);
    // The new hashes chain from the hash of message keep-1; the script checks it has not changed.
    // Counted from the tail when the length is known, where Redis finds it without walking the list.
    let previous = '';
    if (input.keep > 0) {
      const index = input.expectedLength === undefined ? input.keep - 1 : input.keep - 1 - input.expectedLength;
      previous = (await this.#run(() => this.#redis.lindex(k.hashes, index))) ?? '';
      if (previous === '') throw sessionConflict(`message ${input.keep} of the stored history is gone`);
    }
    const json = input.append.map((m) => JSON.stringify(m));
    const hashes = chainHashes(input.append, previous);
    const now = this.#now();
    const reply = (await this.#run(() =>
      commitScript.run(
        this.#redis,
        [k.msgs, k.hashes, k.meta],
        [input.keep, input.expectedLength ?? -1, previous, this.#options.ttlMs, now, this.#options.maxSessionBytes, json.length, ...json, ...hashes],
      ),
    )) as [string, number, number?, string?, number?];
    const [status, a, turns, createdAt, bytes] = reply;
    switch (status) {
      case 'ok':
        return { length: a, turns: turns!, createdAt: Number(createdAt), updatedAt: now, bytes: bytes! };
      case 'expected':
        throw sessionConflict(`expected ${input.expectedLength} stored messages, found ${a}`);
      case 'keep':
        throw sessionConflict(`cannot keep ${input.keep} of ${a} stored messages`);
      case 'hash':
        throw sessionConflict(`message ${input.keep} of the stored history was replaced`);
      case 'size':
        throw sessionTooLarge(a, this.#options.maxSessionBytes);
      default:
        throw new Error(`redis session store: unexpected commit reply ${JSON.stringify(reply)}`);
    }
  }

  async delete(key: SessionKey): Promise<boolean> {
    const k = this.#keys(key);
    return (await this.#run(() => this.#redis.del(k.msgs, k.hashes, k.meta))) > 0;
  }

  async lock(key: SessionKey, given?: Partial<LockOptions>): Promise<Unlock> {
    const options = lockOptions(this.#options.lock, given);
    options.signal?.throwIfAborted();
    const k = this.#keys(key);
    const token = randomUUID();
    const tryTake = () => this.#run(() => this.#redis.set(k.lock, token, 'PX', options.ttlMs, 'NX'));
    // Held: renewed every third of its ttl, up to holdMs in all, so a turn longer than ttlMs keeps
    // it; the ttl still frees the lock of a replica that died holding it.
    let renewal: NodeJS.Timeout | undefined;
    const held = (): Unlock => {
      if ((options.holdMs ?? 0) <= options.ttlMs) return unlock;
      const until = performance.now() + options.holdMs!;
      renewal = setInterval(() => {
        const left = Math.floor(until - performance.now());
        if (left <= 0) return clearInterval(renewal);
        this.#run(() => renewScript.run(this.#redis, [k.lock], [token, Math.min(options.ttlMs, left)])).then(
          (kept) => {
            if (kept !== 0) return;
            clearInterval(renewal);
            this.#log.warn('session store: a session lock was lost while its turn was still running; the commit detects any interleaving');
          },
          (err: unknown) => this.#log.warn({ err: (err as Error).message }, 'session store: could not renew a session lock'),
        );
      }, Math.max(1, Math.floor(options.ttlMs / 3)));
      renewal.unref();
      return unlock;
    };
    const unlock: Unlock = async () => {
      clearInterval(renewal);
      try {
        await this.#run(() => releaseScript.run(this.#redis, [k.lock], [token]));
      } catch (err) {
        // The lock expires by itself; a failed release must not turn a finished turn into an error.
        this.#log.warn({ err: (err as Error).message }, 'session store: could not release a session lock; it will expire');
      }
    };

    // Fair-ish: a newcomer takes a free lock only when nobody is waiting; waiters then race by polling.
    if ((await this.#run(() => arriveScript.run(this.#redis, [k.lock, k.q], [token, options.ttlMs]))) === 1) return held();
    if (options.maxQueue === 0) throw sessionBusy('queue');
    const position = await this.#run(() => enqueueScript.run(this.#redis, [k.q], [options.maxQueue, options.waitMs + 5_000]));
    if (position === 0) throw sessionBusy('queue');
    try {
      const deadline = performance.now() + options.waitMs;
      for (let attempt = 0; ; attempt++) {
        const left = deadline - performance.now();
        if (left <= 0) throw sessionBusy('timeout');
        const backoff = Math.min(POLL_MAX_MS, POLL_MIN_MS * 2 ** attempt) * (0.5 + Math.random() / 2);
        await sleep(Math.min(backoff, left), undefined, { signal: options.signal }).catch((err: unknown) => {
          options.signal?.throwIfAborted(); // with the signal's own reason, as the memory store does
          throw err;
        });
        if ((await tryTake()) === 'OK') return held();
      }
    } finally {
      await this.#run(() => dequeueScript.run(this.#redis, [k.q], [])).catch(() => undefined);
    }
  }

  async putDocument(tenant: string, kind: DocumentKind, id: string, doc: unknown, ttlSeconds: number): Promise<void> {
    if (!(ttlSeconds > 0)) throw new TypeError(`putDocument: ttlSeconds must be positive, got ${ttlSeconds}`);
    const json = JSON.stringify(doc);
    if (json === undefined) throw new TypeError('putDocument: the document is not JSON-serialisable');
    const size = Buffer.byteLength(json);
    if (size > this.#options.maxSessionBytes) throw documentTooLarge(size, this.#options.maxSessionBytes);
    await this.#run(() => this.#redis.set(this.#documentKey({ tenant, kind, id }), json, 'PX', Math.ceil(ttlSeconds * 1000)));
  }

  async getDocument(tenant: string, kind: DocumentKind, id: string): Promise<unknown> {
    const json = await this.#run(() => this.#redis.get(this.#documentKey({ tenant, kind, id })));
    return json === null ? undefined : JSON.parse(json);
  }

  async deleteDocument(tenant: string, kind: DocumentKind, id: string): Promise<boolean> {
    return (await this.#run(() => this.#redis.del(this.#documentKey({ tenant, kind, id })))) > 0;
  }

  async stats(): Promise<SessionStoreStats> {
    // Counting sessions would need a SCAN over the keyspace: not cheap, so not reported.
    return { type: this.type };
  }

  async ping(): Promise<void> {
    await this.#run(() => this.#redis.ping());
  }

  async close(): Promise<void> {
    if (this.#redis.status === 'end') return;
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  /** Runs Redis commands; any failure that is not already a client-facing error becomes 503. */
  async #run<T>(fn: () => Promise<T>): Promise<T> {
    const status = this.#redis.status;
    // Known to be down: fail now rather than after a timeout.
    if (status === 'reconnecting' || status === 'close' || status === 'end') throw storeUnavailable(new Error(`Redis connection is ${status}`));
    try {
      return await fn();
    } catch (err) {
      if (isGatewayError(err)) throw err;
      this.#log.debug({ err: (err as Error).message }, 'session store: Redis command failed');
      throw storeUnavailable(err);
    }
  }

  #keys({ tenant, id }: SessionKey): SessionKeys {
    const base = `${this.#options.keyPrefix}s:{${encodeURIComponent(tenant)}:${encodeURIComponent(id)}}:`;
    return { msgs: `${base}msgs`, hashes: `${base}hashes`, meta: `${base}meta`, lock: `${base}lock`, q: `${base}q` };
  }

  #documentKey({ tenant, kind, id }: { tenant: string; kind: DocumentKind; id: string }): string {
    return `${this.#options.keyPrefix}d:${encodeURIComponent(tenant)}:${kind}:${encodeURIComponent(id)}`;
  }
}

/** Unwraps a MULTI reply; a failed command or an aborted transaction throws (and becomes 503). */
function results(replies: [Error | null, unknown][] | null): unknown[] {
  if (!replies) throw new Error('Redis transaction was aborted');
  return replies.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}
