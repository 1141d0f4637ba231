// GET /v1/sessions/{id} and DELETE /v1/sessions/{id}: the owning tenant's view of a session.
// Another tenant's id is simply not found (404, never 403: nothing about it leaks).
import type { Hono } from 'hono';
import { notFound } from '../../errors.js';
import type { SessionStore } from '../../sessions/index.js';
import type { AppEnv } from '../context.js';
import { methodNotAllowed } from '../errors.js';

const missing = (id: string) => notFound(`No session found with id '${id}'.`, 'session_not_found');

export function registerSessionRoutes(app: Hono<AppEnv>, store: SessionStore, onEnded?: (turns: number) => void): void {
  app.get('/v1/sessions/:id', async (c) => {
    const id = c.req.param('id');
    const session = await store.load({ tenant: c.get('tenant'), id });
    if (!session) throw missing(id);
    return c.json({
      id,
      object: 'session',
      created_at: Math.floor(session.createdAt / 1000),
      updated_at: Math.floor(session.updatedAt / 1000),
      turns: session.turns,
      bytes: session.bytes,
      messages: session.messages,
    });
  });
  app.delete('/v1/sessions/:id', async (c) => {
    const id = c.req.param('id');
    const key = { tenant: c.get('tenant'), id };
    const session = onEnded ? await store.load(key) : undefined;
    if (!(await store.delete(key))) throw missing(id);
    if (session) onEnded?.(session.turns);
    return c.json({ id, object: 'session.deleted', deleted: true });
  });
  app.all('/v1/sessions/:id', methodNotAllowed('GET, DELETE'));
}
