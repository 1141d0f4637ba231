// The headers the gateway adds to a response (request id, route, rule, fallback), kept as a plain
// object rather than set with Hono's `c.header`. `c.header` builds a WHATWG Headers (undici's, with
// its validation and sorted copies) for every request, and @hono/node-server turns it back into a
// plain object to write the head: ~14 µs a request (a build that skipped them, against one that
// did, alternating: 208 → 194 µs of CPU per stateless request). The chat exchange answers with `respond`, a Response whose headers are a plain object,
// which node-server writes as it is; any other response (errors, other routes) gets the same
// headers from `applyResponseHeaders` at the end of the chain.
//
// In the request path, set headers with `setResponseHeader`: a `c.header` made before `respond`
// would be lost (Hono merges earlier headers only into responses it builds itself).
import type { Context } from 'hono';
import type { AppEnv } from './context.js';

export class ResponseHeaders {
  readonly values: Record<string, string> = {};
  /** A response was built with `values` already in it. */
  applied = false;
}

export function setResponseHeader(c: Context<AppEnv>, name: string, value: string): void {
  c.get('responseHeaders').values[name] = value;
}

/** A Response with the gateway's headers, then the upstream's, then `fixed` (later ones win where
 * two name the same header), as a plain object. `body`: the upstream's bytes as text, or a stream
 * source. Merged with Object.assign onto {}, not spreads: V8 gives a spread's result a hidden class
 * outside the transition tree, so every header added after it made a new one per request, in the
 * old generation (seen with --log-maps: 7 maps per streamed request). */
export function respond(c: Context<AppEnv>, body: string | object, status: number, upstream: Record<string, string>, fixed: Record<string, string>): Response {
  const ours = c.get('responseHeaders');
  ours.applied = true;
  return new Response(body as ConstructorParameters<typeof Response>[0], { status, headers: Object.assign({}, ours.values, upstream, fixed) });
}

/** For responses not built by `respond`: adds the gateway's headers a handler did not set itself. */
export function applyResponseHeaders(c: Context<AppEnv>): void {
  const ours = c.get('responseHeaders');
  if (ours.applied) return;
  const headers = c.res.headers;
  for (const name in ours.values) if (!headers.has(name)) headers.set(name, ours.values[name]!);
}
