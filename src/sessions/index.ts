// Session store construction: config ▶ one SessionStore. The store type picks a builder from a map;
// nothing else in the gateway names a store type.
import type { Logger } from 'pino';
import type { SessionsConfig, SessionStoreConfig } from '../config/sessions.js';
import { MemorySessionStore } from './memory.js';
import { RedisSessionStore } from './redis.js';
import type { SessionStore, StoreCommonOptions } from './store.js';

type Builders = {
  [T in SessionStoreConfig['type']]: (store: Extract<SessionStoreConfig, { type: T }>, common: StoreCommonOptions, logger: Logger) => SessionStore;
};

const builders: Builders = {
  memory: (store, common) => new MemorySessionStore({ ...common, maxEntries: store.maxSessions, maxBytes: store.maxBytes }),
  redis: (store, common, logger) =>
    new RedisSessionStore({
      ...common,
      url: store.url,
      keyPrefix: store.keyPrefix,
      commandTimeoutMs: store.commandTimeoutMs,
      connectTimeoutMs: store.connectTimeoutMs,
      logger,
    }),
};

export function createSessionStore(config: SessionsConfig, logger: Logger): SessionStore {
  const common: StoreCommonOptions = {
    ttlMs: config.ttlSeconds * 1000,
    maxSessionBytes: config.maxSessionBytes,
    lock: { ...config.lock },
  };
  const build = builders[config.store.type] as (store: SessionStoreConfig, common: StoreCommonOptions, logger: Logger) => SessionStore;
  return build(config.store, common, logger);
}

export type {
  CommitInput,
  DocumentKind,
  LockOptions,
  SessionKey,
  SessionMeta,
  SessionStore,
  SessionStoreStats,
  StoredSession,
  Unlock,
} from './store.js';
export { canonicalMessage, chainHash, chainHashes, sessionKeyHash } from './hash.js';
export { reconcile, type Reconciled, type ReconcileMode, type StoredHistory } from './reconcile.js';
