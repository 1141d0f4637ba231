// GET /v1/models and /v1/models/{id}: the models the config exposes.
// https://platform.openai.com/docs/api-reference/models
import type { Hono } from 'hono';
import { notFound } from '../../errors.js';
import type { Runtime } from '../../runtime.js';
import type { AppEnv } from '../context.js';

// A fixed timestamp: the list changes only with the config, and clients only display it.
const CREATED = 1_700_000_000;

function listModels(runtime: Runtime) {
  const seen = new Map<string, string>();
  for (const backend of runtime.backends.values()) for (const id of backend.models()) if (!seen.has(id)) seen.set(id, backend.name);
  return [...seen].map(([id, owner]) => ({ id, object: 'model' as const, created: CREATED, owned_by: owner }));
}

export function registerModelRoutes(app: Hono<AppEnv>): void {
  app.get('/v1/models', (c) => c.json({ object: 'list', data: listModels(c.get('runtime')) }));
  app.get('/v1/models/:id{.+}', (c) => {
    const id = c.req.param('id');
    const model = listModels(c.get('runtime')).find((m) => m.id === id);
    if (!model) throw notFound(`The model '${id}' does not exist or you do not have access to it.`, 'model_not_found');
    return c.json(model);
  });
}
