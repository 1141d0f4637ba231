// Several middleware as one Hono middleware. Hono runs each middleware it matched in an async
// dispatch step of its own (hono/dist/compose.js): a promise, an await, and a `then` lookup on the
// Context it resolves with (V8's ResolvePromise asks any object whether it is a thenable: ~500
// instructions on a Context, callgrind). Every request to the gateway passed seven such steps before
// its handler. A pipeline runs its middleware with what Hono's compose guarantees and nothing more:
// in order, each handed a `next()` that runs the rest; a middleware that only returns `next()` adds
// no promise at all; a thrown or rejected error becomes the error handler's response at the layer
// that threw, so the layers outside it still see a response (as Hono's compose does: the request id
// and CORS headers, the access log's status).
// https://hono.dev/docs/concepts/middleware
import type { Context, Env, ErrorHandler, MiddlewareHandler, Next } from 'hono';

export function pipeline<E extends Env>(onError: ErrorHandler<E>, ...layers: MiddlewareHandler<E>[]): MiddlewareHandler<E> {
  if (typeof onError !== 'function') throw new Error('pipeline: an error handler is required');
  if (layers.length === 0 || layers.some((l) => typeof l !== 'function')) throw new Error('pipeline: give it one or more middleware functions');

  /** The error as Hono's compose handles it: an Error becomes the handler's response; anything else propagates. */
  function recover(c: Context<E>, err: unknown): Promise<void> | undefined {
    if (!(err instanceof Error)) throw err;
    c.error = err;
    const res = onError(err, c);
    if (res instanceof Promise) return res.then((r) => void (c.res = r));
    c.res = res;
    return undefined;
  }

  function run(c: Context<E>, i: number, last: Next): Promise<void> | undefined {
    if (i === layers.length) return last();
    // What the next layer returned: a layer that returns it unchanged passes on a result that is
    // already settled as this function settles it (never a rejection, the errors turned into responses).
    let inner: Promise<void> | undefined;
    const next = (): Promise<void> => {
      if (inner !== undefined) throw new Error('next() called multiple times');
      return (inner = run(c, i + 1, last) ?? Promise.resolve());
    };
    let out: unknown;
    try {
      out = layers[i]!(c, next);
    } catch (err) {
      return recover(c, err);
    }
    if (out === inner && out !== undefined) return inner;
    if (out instanceof Promise)
      return out.then(
        (res: unknown) => {
          if (res && !c.finalized) c.res = res as Response;
        },
        (err: unknown) => recover(c, err),
      );
    if (out && !c.finalized) c.res = out as Response;
    return undefined;
  }

  return function pipelineMiddleware(c, next) {
    return run(c, 0, next) ?? Promise.resolve();
  };
}

/** A layer run only for `prefix` and the paths below it, as Hono matches `${prefix}/*`; any other
 * request passes on untouched. For a pipeline's layers that only some routes take (the /v1 ones):
 * a Hono `use(path)` of their own would be one more async step for every request it matches. */
export function under<E extends Env>(prefix: string, layer: MiddlewareHandler<E>): MiddlewareHandler<E> {
  if (!prefix.startsWith('/') || prefix.endsWith('/')) throw new Error(`under: the prefix must start with "/" and not end with one (got ${JSON.stringify(prefix)})`);
  const below = `${prefix}/`;
  return function underPrefix(c, next) {
    const path = c.req.path;
    return path === prefix || path.startsWith(below) ? layer(c, next) : next();
  };
}
