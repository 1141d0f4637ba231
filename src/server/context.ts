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
    /** The parsed body and the JSON text it was parsed from, when that is an object whose top-level
     * keys are each written once and without an escape in the name (so the text says what the body
     * says at the top level, and a search finds its keys as they are named; below it a
     * repeated key is left as written, as a pass-through proxy would send it). A step that changes
     * the body sets a new object (never changes it in place), so `bodySource.body === body` tells
     * whether the text still stands for it. */
    bodySource: { readonly body: unknown; readonly text: string } | undefined;
    /** Headers the gateway adds to the response (response-headers.ts). */
    responseHeaders: ResponseHeaders;
  };
}
