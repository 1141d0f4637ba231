// What the middlewares put on the Hono context, typed once.
import type { Logger } from 'pino';
import type { Runtime } from '../runtime.js';
import type { ResponseHeaders } from './response-headers.js';

export interface AppEnv {
  Variables: {
    requestId: string;
    logger: Logger;
    /** Tenant of the gateway key that authenticated the request ("anonymous" with auth: none). */
    tenant: string;
    /** The runtime snapshot (config, router, backends) this request started with: a reload mid-request does not affect it. */
    runtime: Runtime;
    /** The JSON body, parsed once by the body middleware; undefined for bodiless requests. */
    body: unknown;
    /** Headers the gateway adds to the response (response-headers.ts). */
    responseHeaders: ResponseHeaders;
  };
}
