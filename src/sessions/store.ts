// The session store seam. The server sees only this interface; `memory.ts` and `redis.ts` implement
// it and pass one contract suite (test/sessions/contract.ts).
//
// Everything is tenant-scoped: a key is (tenant, id), so tenant B naming A's session id gets a
// different, usually non-existent, session. No method takes an id without its tenant.
//
// A turn on the stateful path:
//   const unlock = await store.lock(key, { signal });
//   try {
//     const stored = await store.load(key);                       // refreshes the TTL
//     const r = reconcile(stored, body.messages);                 // reconcile.ts
//     …call the backend with r.context / r.historyLength…
//     await store.commit(key, { keep: r.keep, append: [...r.append, reply], expectedLength: stored?.length ?? 0 });
//   } finally { await unlock(); }
import type { ChatMessage } from '../backends/types.js';
import { GatewayError } from '../errors.js';

export interface SessionKey {
  tenant: string;
  id: string;
}

export interface SessionMeta {
  /** Stored messages. */
  length: number;
  /** Commits so far (a fork counts as one). */
  turns: number;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
  /** Stored size: UTF-8 JSON of every message plus its 64-character hash. */
  bytes: number;
}

export interface StoredSession extends SessionMeta {
  /** The messages as committed. Treat as read-only (the memory store hands out frozen objects). */
  messages: readonly ChatMessage[];
  /** Chain hash per message (hash.ts): hashes[i] covers messages[0..i]. */
  hashes: readonly string[];
}

export interface CommitInput {
  /** Truncate the stored history to this many messages first (a fork); the stored length for a plain append. */
  keep: number;
  /** Messages to add after the first `keep`, in order. The store hashes them. */
  append: readonly ChatMessage[];
  /** If given, the commit fails with 409 `session_conflict` unless the stored length is still this (what `load` returned). */
  expectedLength?: number;
}

export interface LockOptions {
  /** Give up (409 `session_busy`) after waiting this long. */
  waitMs: number;
  /** Waiters allowed behind the holder; one more gets 409 `session_busy` at once. */
  maxQueue: number;
  /** The lock expires this long after it was taken (or last renewed), so a crashed holder cannot keep it. */
  ttlMs: number;
  /** While held, the lock is renewed up to this long in total (a turn that outlasts ttlMs keeps it).
   * Default: no renewal. */
  holdMs?: number;
  /** Stop waiting (rejects with the signal's reason) when the client goes away. */
  signal?: AbortSignal;
}

/** Releases the lock. Idempotent; a no-op once the lock has expired and someone else holds it. */
export type Unlock = () => Promise<void>;

export type DocumentKind = 'response';

export interface SessionStoreStats {
  type: string;
  /** Live sessions, when the store can count them cheaply (memory: yes; Redis: no). */
  sessions?: number;
  /** Bytes held, when known. */
  bytes?: number;
}

export interface SessionStore {
  readonly type: string;
  /** The session, or undefined if there is none (never created, deleted, expired, evicted). Refreshes the TTL. */
  load(key: SessionKey): Promise<StoredSession | undefined>;
  /** Truncate to `keep`, append, count one turn, refresh the TTL; creates the session when `keep` is 0.
   * Work is proportional to the appended (and, on a fork, the dropped) messages, never the whole history.
   * 409 `session_conflict` when `keep` exceeds the stored length or `expectedLength` does not match;
   * 413 `session_too_large` past `maxSessionBytes`. */
  commit(key: SessionKey, input: CommitInput): Promise<SessionMeta>;
  /** True if a session was deleted. */
  delete(key: SessionKey): Promise<boolean>;
  /** Serialise turns on one session. Options default to the store's (from config). */
  lock(key: SessionKey, options?: Partial<LockOptions>): Promise<Unlock>;

  /** Stored Responses-API objects (`store: true`), kept as JSON, expiring `ttlSeconds` after the put.
   * (Positional, as the Responses code's DocumentStore interface expects.) */
  putDocument(tenant: string, kind: DocumentKind, id: string, doc: unknown, ttlSeconds: number): Promise<void>;
  /** A fresh copy of the document, or undefined. Does not extend its TTL. */
  getDocument(tenant: string, kind: DocumentKind, id: string): Promise<unknown>;
  deleteDocument(tenant: string, kind: DocumentKind, id: string): Promise<boolean>;

  stats(): Promise<SessionStoreStats>;
  /** Readiness: resolves when the store answers, rejects with 503 `session_store_unavailable` otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** What every implementation is built from; `index.ts` derives it from the config. */
export interface StoreCommonOptions {
  /** Session TTL, refreshed on load and commit. */
  ttlMs: number;
  maxSessionBytes: number;
  lock: Omit<LockOptions, 'signal'>;
  /** Clock for createdAt/updatedAt (epoch ms). */
  now?: () => number;
}

// ── Errors every implementation throws, so the client sees the same thing from each ──

export const sessionBusy = (reason: 'queue' | 'timeout') =>
  new GatewayError({
    status: 409,
    type: 'conflict_error',
    code: 'session_busy',
    message:
      reason === 'queue'
        ? 'Another request on this session is in progress and too many are already waiting; retry when it has finished.'
        : 'Another request on this session is still in progress; timed out waiting for it. Retry when it has finished.',
    headers: { 'retry-after': '1' },
  });

export const sessionConflict = (detail: string) =>
  new GatewayError({
    status: 409,
    type: 'conflict_error',
    code: 'session_conflict',
    message: `The session changed while this request was running (${detail}); retry the request.`,
  });

export const sessionTooLarge = (bytes: number, limit: number) =>
  new GatewayError({
    status: 413,
    code: 'session_too_large',
    message: `The session would hold ${bytes} bytes, over the limit of ${limit}; start a new session or delete this one.`,
  });

export const documentTooLarge = (bytes: number, limit: number) =>
  new GatewayError({
    status: 413,
    code: 'document_too_large',
    message: `The stored object would be ${bytes} bytes, over the limit of ${limit}.`,
  });

export const storeUnavailable = (cause?: unknown) =>
  new GatewayError({
    status: 503,
    type: 'service_unavailable_error',
    code: 'session_store_unavailable',
    message: 'The session store is unavailable; retry shortly. Requests without a session are not affected.',
    headers: { 'retry-after': '1' },
    cause,
  });

/** Checks a commit's shape before any store touches data (a programming error, not a client one). */
export function assertCommitInput(input: CommitInput): void {
  if (!Number.isInteger(input.keep) || input.keep < 0) throw new TypeError(`commit: keep must be a non-negative integer, got ${input.keep}`);
  if (input.expectedLength !== undefined && (!Number.isInteger(input.expectedLength) || input.expectedLength < 0))
    throw new TypeError(`commit: expectedLength must be a non-negative integer, got ${input.expectedLength}`);
}

/** Fills lock options from the store's defaults and checks them. */
export function lockOptions(defaults: StoreCommonOptions['lock'], given: Partial<LockOptions> | undefined): LockOptions {
  const o: LockOptions = {
    waitMs: given?.waitMs ?? defaults.waitMs,
    maxQueue: given?.maxQueue ?? defaults.maxQueue,
    ttlMs: given?.ttlMs ?? defaults.ttlMs,
    holdMs: given?.holdMs ?? defaults.holdMs ?? 0,
    ...(given?.signal && { signal: given.signal }),
  };
  if (!(o.waitMs >= 0) || !(o.ttlMs > 0) || !(o.holdMs! >= 0) || !Number.isInteger(o.maxQueue) || o.maxQueue < 0)
    throw new TypeError(`lock: waitMs >= 0, ttlMs > 0 and an integer maxQueue >= 0 are required, got ${JSON.stringify({ ...o, signal: undefined })}`);
  return o;
}
