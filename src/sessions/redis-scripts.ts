// Lua run atomically inside Redis by the Redis session store, and a small EVALSHA helper.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { HASH_LENGTH } from './hash.js';

export class LuaScript {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** EVALSHA, falling back to EVAL once when the server does not have the script cached yet. */
  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/**
 * Commit one turn. KEYS: msgs, hashes, meta. ARGV: keep, expectedLength (-1: none), hash of message
 * keep-1 ('' when keep is 0: the caller chained the new hashes from it), ttlMs, now, maxBytes, n,
 * then n message JSONs, then their n hashes.
 * Returns {'ok', length, turns, createdAt, bytes} or {'expected'|'keep'|'hash'|'size', detail}.
 * Reads and drops only the messages past `keep` (a fork); otherwise O(appended).
 */
export const commitScript = new LuaScript(`
local keep, expected, prev, ttl, now, maxBytes, n = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local HL = ${HASH_LENGTH}
if redis.call('EXISTS', KEYS[3]) == 0 then redis.call('DEL', KEYS[1], KEYS[2]) end
local len = redis.call('LLEN', KEYS[1])
if expected >= 0 and expected ~= len then return {'expected', len} end
if keep > len then return {'keep', len} end
if keep > 0 and redis.call('LINDEX', KEYS[2], keep - 1 - len) ~= prev then return {'hash', len} end
local bytes = tonumber(redis.call('HGET', KEYS[3], 'bytes') or '0')
if keep < len then
  local dropped = redis.call('LRANGE', KEYS[1], keep, -1)
  for i = 1, #dropped do bytes = bytes - #dropped[i] - HL end
end
for i = 1, n do bytes = bytes + #ARGV[7 + i] + HL end
if bytes > maxBytes then return {'size', bytes} end
if keep < len then
  if keep == 0 then
    redis.call('DEL', KEYS[1], KEYS[2])
  else
    redis.call('LTRIM', KEYS[1], 0, keep - 1)
    redis.call('LTRIM', KEYS[2], 0, keep - 1)
  end
end
for i = 1, n, 500 do
  local j = math.min(i + 499, n)
  redis.call('RPUSH', KEYS[1], unpack(ARGV, 7 + i, 7 + j))
  redis.call('RPUSH', KEYS[2], unpack(ARGV, 7 + n + i, 7 + n + j))
end
redis.call('HSETNX', KEYS[3], 'createdAt', now)
local turns = redis.call('HINCRBY', KEYS[3], 'turns', 1)
redis.call('HSET', KEYS[3], 'updatedAt', now, 'bytes', bytes)
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ttl) end
return {'ok', keep + n, turns, redis.call('HGET', KEYS[3], 'createdAt'), bytes}
`);

/** Take a free lock on arrival, unless others are already waiting for it (they go first: the
 * newcomer queues behind them). KEYS: lock, q. ARGV: token, ttlMs. Returns 1 when taken. */
export const arriveScript = new LuaScript(`
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then return 0 end
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
return 0
`);

/** Join the lock queue. KEYS: q. ARGV: maxQueue, expiryMs. Returns the position, or 0 when full. */
export const enqueueScript = new LuaScript(`
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if n > tonumber(ARGV[1]) then
  if redis.call('DECR', KEYS[1]) <= 0 then redis.call('DEL', KEYS[1]) end
  return 0
end
return n
`);

/** Leave the lock queue. KEYS: q. */
export const dequeueScript = new LuaScript(`
local n = redis.call('DECR', KEYS[1])
if n <= 0 then redis.call('DEL', KEYS[1]) end
return n
`);

/** Release a lock only if we still hold it. KEYS: lock. ARGV: token. */
export const releaseScript = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/** Extends the lock's expiry while its holder still owns it (a turn longer than ttlMs); 0 when it was lost. */
export const renewScript = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`);
