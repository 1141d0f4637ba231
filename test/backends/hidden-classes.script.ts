// Run by hidden-classes.test.ts under `node --allow-natives-syntax`: builds each hot-path object
// twice, as two requests would, and prints whether V8 gave both the same hidden class (map).
import { cancellationOf } from '../../src/backends/cancellation.js';
import { chatRequestBody } from '../../src/backends/azure/request.js';
import { upstreamStream } from '../../src/backends/azure/stream.js';
import { translateStream } from '../../src/backends/bedrock/stream.js';
import { streamResult, type CallContext } from '../../src/backends/types.js';
import { createLogger } from '../../src/logger.js';
import { RequestAbort } from '../../src/resilience/request-abort.js';
import { ResponseHeaders, respond } from '../../src/server/response-headers.js';
import { MemorySessionStore } from '../../src/sessions/memory.js';

declare function sameMap(a: unknown, b: unknown): boolean;
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as typeof sameMap;

const logger = createLogger({ level: 'silent' });
const empty = (async function* () {})();
/** Two results after a warm-up: V8's inline caches take their fast paths (where a spread's result gets
 * a map outside the transition tree) only once the code has run for a while. */
const twice = <T>(make: () => T): [T, T] => {
  for (let i = 0; i < 3000; i++) make();
  return [make(), make()];
};
const results: Record<string, boolean> = {};

const [a, b] = twice(() => upstreamStream({ body: empty, clientWantsUsage: false, upstreamModel: 'm', cancel: { aborted: false }, logger }));
results['azure stream generator'] = haveSameMap(a.batches, b.batches);
const [ta, tb] = twice(() => translateStream(empty, { model: 'm', clientWantsStreamUsage: false, mapError: (e) => e as Error }));
results['bedrock stream generator'] = haveSameMap(ta.chunks, tb.chunks);
const [sa, sb] = twice(() => streamResult({ status: 200, headers: {}, model: () => 'm', batches: empty, usage: () => undefined }));
results['stream result'] = haveSameMap(sa, sb);
const call = () => ({ body: JSON.parse('{"model":"gpt-4o","messages":[],"stream":true}'), model: 'gpt-4o', stream: true, clientWantsStreamUsage: false });
const [ra, rb] = twice(() => chatRequestBody(call(), 'dep'));
results['upstream request body'] = haveSameMap(ra, rb);
const context = () => {
  const headers = new ResponseHeaders();
  headers.values['x-request-id'] = 'r';
  headers.values['x-stateroute-route'] = 'stateless';
  return { get: () => headers } as never;
};
const [ha, hb] = twice(() => {
  let init: ResponseInit | undefined;
  const Real = globalThis.Response;
  globalThis.Response = function (_body: unknown, i: ResponseInit) {
    init = i;
  } as unknown as typeof Response;
  try {
    respond(context(), '{}', 200, { 'x-upstream-request-id': 'u' }, { 'content-type': 'application/json' });
  } finally {
    globalThis.Response = Real;
  }
  return init!.headers;
});
results['response headers'] = haveSameMap(ha, hb);
const ctx = (abort: RequestAbort): CallContext => abort.callContext({ requestId: 'r', tenant: 't', logger });
const [ca, cb] = twice(() => cancellationOf(ctx(new RequestAbort())));
results['cancellation'] = haveSameMap(ca, cb);
const [xa, xb] = twice(() => cancellationOf({ requestId: 'r', tenant: 't', logger, signal: new AbortController().signal }));
results['signal cancellation'] = haveSameMap(xa, xb);
const store = new MemorySessionStore({ ttlMs: 60_000, maxSessionBytes: 1 << 20, lock: { maxQueue: 8, waitMs: 5_000, ttlMs: 60_000 }, maxEntries: 10, maxBytes: 1 << 24 });
const key = { tenant: 't', id: 's' };
await store.commit(key, { keep: 0, append: [{ role: 'user', content: 'hi' }] });
for (let i = 0; i < 3000; i++) await store.load(key);
results['stored session'] = haveSameMap(await store.load(key), await store.load(key));
process.stdout.write(JSON.stringify(results));
