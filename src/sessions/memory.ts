// In-process session store: one lru-cache bounded by entries and by bytes, TTL refreshed on use.
// Sessions and stored documents share the cache (and so its byte budget).
//
// A session is one object: the message array, the parallel hash array and a few numbers. A commit
// pushes onto both arrays and `set`s a new small entry around them with the new size (no
// re-serialising), so the cost is the appended messages' JSON, never the history's. Stored messages are copies, deep-frozen, so no
// caller can change history by mutating what `load` returned.
import { LRUCache } from 'lru-cache';
import type { ChatMessage } from '../backends/types.js';
import { MEMORY_ENTRY_OVERHEAD_BYTES } from '../config/sessions.js';
import { chainHash, HASH_LENGTH } from './hash.js';
import { KeyedLock } from './local-lock.js';
import {
  assertCommitInput,
  documentTooLarge,
  lockOptions,
  sessionConflict,
  sessionTooLarge,
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

export interface MemoryStoreOptions extends StoreCommonOptions {
  /** Entries kept (sessions + documents). */
  maxEntries: number;
  maxBytes: number;
}

interface SessionEntry {
  messages: ChatMessage[];
  hashes: string[];
  turns: number;
  createdAt: number;
  updatedAt: number;
  bytes: number;
}

/** A document is kept as its JSON text: compact, and every get returns a fresh copy. */
type Entry = SessionEntry | string;

const ENTRY_OVERHEAD = MEMORY_ENTRY_OVERHEAD_BYTES;

const sessionKey = (k: SessionKey) => `s:${k.tenant.length}:${k.tenant}:${k.id}`;
const documentKey = (k: { tenant: string; kind: DocumentKind; id: string }) => `d:${k.kind}:${k.tenant.length}:${k.tenant}:${k.id}`;

export class MemorySessionStore implements SessionStore {
  readonly type = 'memory';
  readonly #cache: LRUCache<string, Entry>;
  readonly #locks = new KeyedLock();
  readonly #options: MemoryStoreOptions;
  readonly #now: () => number;
  #sessions = 0;

  constructor(options: MemoryStoreOptions) {
    if (options.maxBytes < options.maxSessionBytes + ENTRY_OVERHEAD)
      throw new TypeError(`memory session store: maxBytes (${options.maxBytes}) must be at least maxSessionBytes (${options.maxSessionBytes}) + ${ENTRY_OVERHEAD}`);
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#cache = new LRUCache<string, Entry>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      ttl: options.ttlMs,
      updateAgeOnGet: true,
      // Every set passes `size`; this only guards against a set that forgets to.
      sizeCalculation: (entry) => entrySize(entry),
      dispose: (entry, _key, reason) => {
        // 'set' is a commit replacing the entry with its successor: the session lives on.
        if (typeof entry !== 'string' && reason !== 'set') this.#sessions--;
      },
    });
  }

  async load(key: SessionKey): Promise<StoredSession | undefined> {
    const entry = this.#session(key);
    if (!entry) return undefined;
    // Fields added to meta()'s object, not `{ ...meta(entry), messages, hashes }`: fields added after
    // a spread get a V8 hidden class of their own on every call (see server/response-headers.ts).
    const loaded = meta(entry) as StoredSession;
    loaded.messages = entry.messages.slice();
    loaded.hashes = entry.hashes.slice();
    return loaded;
  }

  async commit(key: SessionKey, input: CommitInput): Promise<SessionMeta> {
    assertCommitInput(input);
    const k = sessionKey(key);
    const existing = this.#session(key);
    const length = existing?.messages.length ?? 0;
    if (input.expectedLength !== undefined && input.expectedLength !== length)
      throw sessionConflict(`expected ${input.expectedLength} stored messages, found ${length}`);
    if (input.keep > length) throw sessionConflict(`cannot keep ${input.keep} of ${length} stored messages`);

    // Work out the new size before changing anything, so a rejected commit leaves the session as it was.
    let bytes = existing?.bytes ?? 0;
    for (let i = input.keep; i < length; i++) bytes -= messageBytes(JSON.stringify(existing!.messages[i]));
    const added = input.append.map((m) => JSON.stringify(m));
    for (const json of added) bytes += messageBytes(json);
    if (bytes > this.#options.maxSessionBytes) throw sessionTooLarge(bytes, this.#options.maxSessionBytes);

    const now = this.#now();
    const messages = existing?.messages ?? [];
    const hashes = existing?.hashes ?? [];
    if (input.keep < length) {
      messages.length = input.keep;
      hashes.length = input.keep;
    }
    let previous = hashes[input.keep - 1] ?? '';
    for (const json of added) {
      const message = deepFreeze(JSON.parse(json) as ChatMessage);
      previous = chainHash(previous, message);
      messages.push(message);
      hashes.push(previous);
    }
    // A new (small) entry object around the same arrays: lru-cache re-accounts the size, and evicts
    // for it, only when the value changes identity; re-setting the same object would keep the old size.
    const entry: SessionEntry = { messages, hashes, turns: (existing?.turns ?? 0) + 1, createdAt: existing?.createdAt ?? now, updatedAt: now, bytes };
    if (!existing) this.#sessions++;
    this.#cache.set(k, entry, { size: entrySize(entry) });
    return meta(entry);
  }

  async delete(key: SessionKey): Promise<boolean> {
    // A stale (expired) entry counts as absent.
    return this.#session(key) !== undefined && this.#cache.delete(sessionKey(key));
  }

  lock(key: SessionKey, options?: Partial<LockOptions>): Promise<Unlock> {
    try {
      return this.#locks.acquire(sessionKey(key), lockOptions(this.#options.lock, options));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async putDocument(tenant: string, kind: DocumentKind, id: string, doc: unknown, ttlSeconds: number): Promise<void> {
    if (!(ttlSeconds > 0)) throw new TypeError(`putDocument: ttlSeconds must be positive, got ${ttlSeconds}`);
    const json = JSON.stringify(doc);
    if (json === undefined) throw new TypeError('putDocument: the document is not JSON-serialisable');
    const bytes = Buffer.byteLength(json);
    if (bytes > this.#options.maxSessionBytes) throw documentTooLarge(bytes, this.#options.maxSessionBytes);
    this.#cache.set(documentKey({ tenant, kind, id }), json, { size: bytes + ENTRY_OVERHEAD, ttl: Math.ceil(ttlSeconds * 1000) });
  }

  async getDocument(tenant: string, kind: DocumentKind, id: string): Promise<unknown> {
    const json = this.#cache.get(documentKey({ tenant, kind, id }), { updateAgeOnGet: false });
    return typeof json === 'string' ? JSON.parse(json) : undefined;
  }

  async deleteDocument(tenant: string, kind: DocumentKind, id: string): Promise<boolean> {
    const k = documentKey({ tenant, kind, id });
    return this.#cache.get(k, { updateAgeOnGet: false }) !== undefined && this.#cache.delete(k);
  }

  async stats(): Promise<SessionStoreStats> {
    this.#cache.purgeStale();
    return { type: this.type, sessions: this.#sessions, bytes: this.#cache.calculatedSize };
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.#cache.clear();
  }

  #session(key: SessionKey): SessionEntry | undefined {
    const entry = this.#cache.get(sessionKey(key));
    return typeof entry === 'string' ? undefined : entry;
  }
}

function meta(e: SessionEntry): SessionMeta {
  return { length: e.messages.length, turns: e.turns, createdAt: e.createdAt, updatedAt: e.updatedAt, bytes: e.bytes };
}

/** Stored size of one message: its UTF-8 JSON plus its hash (the same measure as the Redis store). */
const messageBytes = (json: string) => Buffer.byteLength(json) + HASH_LENGTH;

const entrySize = (entry: Entry) => (typeof entry === 'string' ? Buffer.byteLength(entry) + ENTRY_OVERHEAD : entry.bytes + ENTRY_OVERHEAD);

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
