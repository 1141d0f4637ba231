// The OpenAI Responses API on top of the chat backends: create (JSON or SSE), retrieve, delete and
// list input items, with responses stored per tenant and chained by `previous_response_id`.
// https://platform.openai.com/docs/api-reference/responses
// Wiring: createApp({ …, extend: (app) => registerResponsesRoutes(app, { meter, documents: sessionStore }) }).
// Files: validate.ts (400s) → request.ts (to chat) → create.ts (call, meter, store) → response.ts /
// stream.ts (back to Responses JSON / SSE); store.ts holds the storage design and its cost.
import type { Handler, Hono } from 'hono';
import { invalidRequest } from '../../errors.js';
import type { Meter } from '../../metering/meter.js';
import type { AppEnv } from '../context.js';
import { methodNotAllowed } from '../errors.js';
import { createResponse } from './create.js';
import { DEFAULT_TTL_SECONDS, ResponseStore, responseNotFound } from './store.js';
import type { DocumentStore, InputItemResource } from './types.js';

export type { DocumentStore } from './types.js';
export { CHAIN_WINDOW, DEFAULT_TTL_SECONDS } from './store.js';

export interface ResponsesDeps {
  meter: Meter;
  documents: DocumentStore;
  /** How long a stored response stays retrievable and chainable (default 30 days). */
  ttlSeconds?: number;
}

function retrieveResponse(store: ResponseStore): Handler<AppEnv> {
  return async function retrieveResponseHandler(c) {
    const id = c.req.param('id')!;
    if (c.req.query('stream') === 'true') throw invalidRequest('Streaming a stored response is not supported by this gateway.', 'stream', 'unsupported_parameter');
    const doc = await store.get(c.get('tenant'), id);
    if (!doc) throw responseNotFound(id);
    return c.json(doc.response);
  };
}

function deleteResponse(store: ResponseStore): Handler<AppEnv> {
  return async function deleteResponseHandler(c) {
    const id = c.req.param('id')!;
    if (!(await store.delete(c.get('tenant'), id))) throw responseNotFound(id);
    return c.json({ id, object: 'response', deleted: true });
  };
}

function listQuery(c: Parameters<Handler<AppEnv>>[0]): { order: 'asc' | 'desc'; limit: number; after: string | undefined } {
  const order = c.req.query('order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw invalidRequest("Invalid value for 'order': expected 'asc' or 'desc'.", 'order', 'invalid_value');
  const limitText = c.req.query('limit') ?? '20';
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > 100) throw invalidRequest("Invalid 'limit': expected an integer between 1 and 100.", 'limit', 'invalid_value');
  return { order, limit, after: c.req.query('after') || undefined };
}

/**
 * GET /v1/responses/{id}/input_items — https://platform.openai.com/docs/api-reference/responses/input-items
 * "The items used to generate this response": for a chained response, the stored conversation before
 * it (each earlier turn's input items and output items) and then its own input items. Reading walks
 * the chain (see store.ts); a deleted or expired ancestor cuts the list there.
 */
function listInputItems(store: ResponseStore): Handler<AppEnv> {
  return async function listInputItemsHandler(c) {
    const id = c.req.param('id')!;
    const { order, limit, after } = listQuery(c);
    const doc = await store.get(c.get('tenant'), id);
    if (!doc) throw responseNotFound(id);
    const { found } = await store.ancestors(c.get('tenant'), doc);
    const context = [...found.flatMap((d) => [...d.inputItems, ...(d.response.output as unknown as InputItemResource[])]), ...doc.inputItems];
    const items = order === 'asc' ? context : context.reverse();
    let start = 0;
    if (after) {
      const at = items.findIndex((item) => item.id === after);
      if (at < 0) throw invalidRequest(`No input item with id '${after}' in response '${id}'.`, 'after', 'invalid_value');
      start = at + 1;
    }
    const data = items.slice(start, start + limit);
    return c.json({ object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + limit < items.length });
  };
}

export function registerResponsesRoutes(app: Hono<AppEnv>, deps: ResponsesDeps): void {
  if (!deps?.meter || !deps.documents) throw new Error('registerResponsesRoutes: `meter` and `documents` (a DocumentStore) are required');
  const store = new ResponseStore(deps.documents, deps.ttlSeconds ?? DEFAULT_TTL_SECONDS);
  app.post('/v1/responses', createResponse({ meter: deps.meter, store }));
  app.all('/v1/responses', methodNotAllowed('POST'));
  app.get('/v1/responses/:id/input_items', listInputItems(store));
  app.all('/v1/responses/:id/input_items', methodNotAllowed('GET'));
  app.get('/v1/responses/:id', retrieveResponse(store));
  app.delete('/v1/responses/:id', deleteResponse(store));
  app.all('/v1/responses/:id', methodNotAllowed('GET, DELETE'));
}
