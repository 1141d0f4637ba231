// CORS for browser clients (openai-node with `dangerouslyAllowBrowser`, fetch from a web app):
// Hono's cors middleware, configured from `server.cors` of the request's runtime snapshot, so a
// reload changes the allowed origins at once. Without `server.cors` nothing is added, and a
// preflight gets the 405 of any other unsupported method.
// https://developer.mozilla.org/docs/Web/HTTP/CORS
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { Config } from '../../config/schema.js';
import type { AppEnv } from '../context.js';

type CorsConfig = NonNullable<Config['server']['cors']>;

/** Headers a browser client may read: ours, the upstream's request id and the rate-limit hints. */
export const EXPOSED_HEADERS = [
  'x-request-id',
  'x-stateroute-route',
  'x-stateroute-rule',
  'x-stateroute-fallback',
  'x-upstream-request-id',
  'retry-after',
  'retry-after-ms',
  'x-ratelimit-limit-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-remaining-tokens',
];

function corsFor(config: CorsConfig): MiddlewareHandler {
  const any = config.origins.includes('*');
  return cors({
    origin: any ? '*' : config.origins,
    allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    // Empty: the preflight's Access-Control-Request-Headers are allowed as asked (the SDKs send
    // authorization, content-type and their x-stainless-* headers).
    allowHeaders: [],
    exposeHeaders: EXPOSED_HEADERS,
    maxAge: config.maxAgeSeconds,
    credentials: config.credentials,
  });
}

export function corsFromConfig(): MiddlewareHandler<AppEnv> {
  // One Hono middleware per config object: built on the first request after a (re)load.
  const built = new WeakMap<CorsConfig, MiddlewareHandler>();
  return function corsMiddleware(c, next) {
    const config = c.get('runtime').config.server.cors;
    if (!config) return next();
    let handler = built.get(config);
    if (!handler) built.set(config, (handler = corsFor(config)));
    return handler(c, next);
  };
}
