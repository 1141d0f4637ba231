import { Hono, type ErrorHandler, type Handler, type MiddlewareHandler } from 'hono';
import { describe, expect, it } from 'vitest';
import { pipeline, under } from '../../src/server/pipeline.js';

const onError: ErrorHandler = (err, c) => c.json({ error: { message: err.message } }, 418);

/** The same middleware as Hono's own layers and as one pipeline, so each test checks both agree. */
function apps(layers: MiddlewareHandler[], handler: Handler = (c) => c.text('handled')) {
  const hono = new Hono();
  hono.onError(onError);
  for (const layer of layers) hono.use('*', layer);
  hono.get('/x', handler);
  const piped = new Hono();
  piped.onError(onError);
  piped.use('*', pipeline(onError, ...layers));
  piped.get('/x', handler);
  return [hono, piped] as const;
}

async function both(layers: MiddlewareHandler[], handler?: Handler) {
  const out = [];
  for (const app of apps(layers, handler)) {
    const res = await app.request('/x');
    out.push({ status: res.status, body: await res.text(), seen: res.headers.get('x-seen') });
  }
  expect(out[1]).toEqual(out[0]);
  return out[1]!;
}

/** An outer layer that reports the status it saw after next(), as the access log and CORS read it. */
const outer: MiddlewareHandler = async (c, next) => {
  await next();
  c.res.headers.set('x-seen', String(c.res.status));
};

describe('pipeline', () => {
  it('runs its layers in order around the handler', async () => {
    const order: string[] = [];
    const layer =
      (name: string): MiddlewareHandler =>
      async (c, next) => {
        order.push(`${name}>`);
        await next();
        order.push(`<${name}`);
      };
    const passOn: MiddlewareHandler = (_c, next) => (order.push('pass'), next());
    const app = new Hono();
    app.use('*', pipeline(onError, layer('a'), passOn, layer('b')));
    app.get('/x', (c) => (order.push('handler'), c.text('ok')));
    const res = await app.request('/x');
    expect(await res.text()).toBe('ok');
    expect(order).toEqual(['a>', 'pass', 'b>', 'handler', '<b', '<a']);
  });

  it('turns an error thrown in a layer into the error response, which the layers outside it see', async () => {
    const thrower: MiddlewareHandler = () => {
      throw new Error('sync');
    };
    expect(await both([outer, thrower])).toEqual({ status: 418, body: '{"error":{"message":"sync"}}', seen: '418' });
  });

  it('does the same for a rejection, and for an error in a layer that only passes next() on', async () => {
    const rejecter: MiddlewareHandler = async () => {
      throw new Error('async');
    };
    expect(await both([outer, rejecter])).toEqual({ status: 418, body: '{"error":{"message":"async"}}', seen: '418' });
    const passOn: MiddlewareHandler = (_c, next) => next();
    expect(await both([outer, passOn, rejecter])).toMatchObject({ status: 418, seen: '418' });
  });

  it('lets a layer answer without next(), as a CORS preflight does', async () => {
    // Typed as Hono types middleware (a promise), but a layer may answer synchronously.
    const answer = ((c) => c.body(null, 204)) as Handler as unknown as MiddlewareHandler;
    const asyncAnswer: MiddlewareHandler = async (c) => c.text('later', 202);
    expect(await both([outer, answer])).toEqual({ status: 204, body: '', seen: '204' });
    expect(await both([outer, asyncAnswer])).toEqual({ status: 202, body: 'later', seen: '202' });
  });

  it('passes the handler’s error to the layers outside as a response too', async () => {
    const failing: Handler = async () => {
      throw new Error('handler');
    };
    expect(await both([outer], failing)).toEqual({ status: 418, body: '{"error":{"message":"handler"}}', seen: '418' });
  });

  it('sets c.error as Hono does', async () => {
    let seen: Error | undefined;
    const watcher: MiddlewareHandler = async (c, next) => {
      await next();
      seen = c.error;
    };
    const app = new Hono();
    app.use('*', pipeline(onError, watcher, () => Promise.reject(new Error('kept'))));
    app.get('/x', (c) => c.text('never'));
    expect((await app.request('/x')).status).toBe(418);
    expect(seen?.message).toBe('kept');
  });

  it('adds no promise of its own for layers that only pass next() on', () => {
    const after = Promise.resolve();
    const passOn: MiddlewareHandler = (_c, next) => next();
    const c = {} as Parameters<MiddlewareHandler>[0];
    // What Hono's next() returned comes back as it is, through both layers.
    expect(pipeline(onError, passOn, passOn)(c, () => after)).toBe(after);
  });

  it('refuses a second next() from one layer, as Hono does', async () => {
    const twice: MiddlewareHandler = async (_c, next) => {
      await next();
      await next();
    };
    const handled = { n: 0 };
    const out = await both([outer, twice], (c) => (handled.n++, c.text('once')));
    expect(out).toEqual({ status: 418, body: '{"error":{"message":"next() called multiple times"}}', seen: '418' });
    expect(handled.n).toBe(2); // once per app: Hono's own composition, then the pipeline
  });

  it('refuses to be built without layers or an error handler', () => {
    expect(() => pipeline(onError)).toThrow(/one or more/);
    expect(() => pipeline(undefined as unknown as ErrorHandler, (_c, next) => next())).toThrow(/error handler/);
  });
});

describe('under', () => {
  it("runs its layer for the paths Hono's `/v1/*` matches, and only those", async () => {
    const mark: MiddlewareHandler = async (c, next) => {
      await next();
      c.res.headers.set('x-under', 'yes');
    };
    const hono = new Hono();
    hono.use('/v1/*', mark);
    const piped = new Hono();
    piped.use('*', pipeline(onError, under('/v1', mark)));
    for (const app of [hono, piped]) app.all('*', (c) => c.text('ok'));
    const paths = ['/v1', '/v1/', '/v1/chat/completions', '/v1x', '/v10/models', '/', '/healthz', '/x/v1/y', '/V1/models'];
    const marked = async (app: Hono, path: string) => (await app.request(path)).headers.get('x-under') === 'yes';
    for (const path of paths) expect(await marked(piped, path), path).toBe(await marked(hono, path));
    expect(await marked(piped, '/v1/models')).toBe(true);
    expect(await marked(piped, '/v1x')).toBe(false);
  });

  it('refuses a prefix Hono would not match as `${prefix}/*`', () => {
    expect(() => under('v1', (_c, next) => next())).toThrow(/prefix/);
    expect(() => under('/v1/', (_c, next) => next())).toThrow(/prefix/);
  });
});
