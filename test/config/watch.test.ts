// Hot reload under load: a tiny Hono app on a real port routes every request with the reloader's
// current router while the config file is rewritten, valid and invalid in turn.
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { createReloader, type ReloadLogger, type Reloader } from '../../src/config/watch.js';
import { compileRouter, type Router } from '../../src/routing/compile.js';
import { requestFacts } from '../../src/routing/facts.js';

const HEAD = `auth: { mode: none }
backends:
  azure: { type: azure-openai, endpoint: "https://a.openai.azure.com", apiKey: k, apiVersion: "2024-10-21" }
  bedrock: { type: bedrock, region: us-east-1 }
`;

/** Sessions go to bedrock; everything else to azure with the model rewritten to `tag`, so the
 * response says which config file answered. */
const valid = (tag: string) => `${HEAD}routes:
  fast: { kind: stateless, backend: azure, model: ${tag} }
  sessions: { kind: stateful, backend: bedrock }
rules:
  - name: sessions
    when: { header: x-session-id }
    route: sessions
default: fast
`;

/** Each is the valid config with the tag `bad…` and one mistake, so if one ever took effect the
 * responses would show it. */
const invalid = [
  (tag: string) => valid(tag).replace('{ header: x-session-id }', '{ header: { name: x-session-id, regex: "(" } }'),
  (tag: string) => valid(tag).replace('{ header: x-session-id }', '{ headr: x-session-id }'),
  (tag: string) => valid(tag).replace('backend: bedrock', 'backend: bedrok'),
  (tag: string) => valid(tag).replace('route: sessions', 'route: sesions'),
  (tag: string) => valid(tag).replace('default: fast\n', ''),
  (tag: string) => valid(tag).replace('rules:', 'rules: [').slice(0, -20), // a half-written file
  () => '',
];

interface Captured {
  logger: ReloadLogger;
  errors: string[];
  infos: string[];
}
function captureLogger(): Captured {
  const errors: string[] = [];
  const infos: string[] = [];
  return { errors, infos, logger: { error: (_o, msg) => void errors.push(msg), info: (_o, msg) => void infos.push(msg) } };
}

let dir: string;
let file: string;
let reloader: Reloader<Router> | undefined;
let server: ServerType | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stateroute-watch-'));
  file = join(dir, 'gateway.yaml');
});
afterEach(async () => {
  reloader?.close();
  reloader = undefined;
  if (server) await new Promise((r) => server!.close(r));
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Editors replace the file (write a temp file, rename it over); others write in place. */
function write(text: string, replace: boolean) {
  if (!replace) return writeFileSync(file, text);
  const tmp = join(dir, `.gateway.yaml.${process.pid}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

async function startApp(r: Reloader<Router>, gate?: Promise<void>): Promise<string> {
  const app = new Hono();
  app.post('/v1/chat/completions', async (c) => {
    const router = r.current(); // one snapshot for the whole request
    const body = await c.req.json();
    if (c.req.header('x-slow')) await gate;
    const d = router.decide(requestFacts({ method: c.req.method, path: c.req.path, headers: c.req.raw.headers, body, sessions: router.sessions }));
    c.header('x-stateroute-route', d.route);
    c.header('x-stateroute-rule', d.rule);
    return c.json({ backend: d.target.backend, model: d.target.model ?? null });
  });
  return new Promise((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => resolve(`http://127.0.0.1:${info.port}`));
  });
}

async function ask(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
  });
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  const json = (await res.json()) as { backend: string; model: string | null };
  return { ...json, route: res.headers.get('x-stateroute-route'), rule: res.headers.get('x-stateroute-rule') };
}

const until = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('createReloader', () => {
  it('100 reloads alternating valid and invalid configs under continuous requests: nothing fails, only valid configs take effect', async () => {
    write(valid('v0'), false);
    const log = captureLogger();
    const results: boolean[] = [];
    reloader = await createReloader({ file, build: compileRouter, logger: log.logger, onResult: (ok) => results.push(ok), debounceMs: 20 });
    const url = await startApp(reloader);

    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const seenModels = new Set<string | null>();
    const client = async (session: boolean) => {
      while (!stop) {
        try {
          const r = await ask(url, session ? { 'x-session-id': 's1' } : {});
          if (session ? r.backend !== 'bedrock' || r.rule !== 'sessions' : r.backend !== 'azure' || r.rule !== 'default') failures.push(`misrouted: ${JSON.stringify(r)}`);
          seenModels.add(r.model);
          ok++;
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const clients = [client(false), client(false), client(true), client(false)];

    let expected = 'v0';
    for (let i = 1; i <= 100; i++) {
      const replace = i % 4 < 2;
      if (i % 2 === 1) {
        expected = `v${i}`;
        write(valid(expected), replace);
        expect(await reloader.reload()).toBe(true);
      } else {
        write(invalid[(i / 2) % invalid.length]!(`bad${i}`), replace);
        expect(await reloader.reload()).toBe(false);
      }
      // Right after each reload, new requests see the last valid config.
      expect((await ask(url)).model).toBe(expected);
      expect(reloader.current().decide(requestFacts({ method: 'POST', path: '/', headers: {}, sessions: { header: 'x-session-id' } })).target.model).toBe(expected);
    }
    stop = true;
    await Promise.all(clients);

    console.log(`reload test: ${ok} requests, ${results.length} reload results`);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(200);
    expect([...seenModels].filter((m) => m?.startsWith('bad'))).toEqual([]);
    expect(seenModels.has('v99')).toBe(true);
    // Debounced file events may add reloads of their own, but never a successful one of a bad file.
    expect(results.filter((r) => r).length).toBeGreaterThanOrEqual(50);
    expect(results.filter((r) => !r).length).toBeGreaterThanOrEqual(50);
    expect(log.errors.length).toBe(results.filter((r) => !r).length);
    expect(log.errors.every((m) => m.startsWith('config reload failed, keeping the previous config: ') && m.includes(file))).toBe(true);
  });

  it('logs an invalid config with file, line and field, and keeps the old one', async () => {
    write(valid('v0'), false);
    const log = captureLogger();
    reloader = await createReloader({ file, build: compileRouter, logger: log.logger, watch: false, signal: false });
    write(invalid[0]!('bad'), false);
    expect(await reloader.reload()).toBe(false);
    expect(log.errors).toEqual([
      `config reload failed, keeping the previous config: rules.0.when.header.regex: not a valid regular expression: /(/: Unterminated group (${file}:10)`,
    ]);
    expect(reloader.current().decide(requestFacts({ method: 'POST', path: '/', headers: {}, sessions: { header: 'x-session-id' } })).target.model).toBe('v0');
  });

  it('picks up a change of the file by itself, including an editor-style replace, and a deleted-then-recreated file', async () => {
    write(valid('v0'), false);
    const log = captureLogger();
    const results: boolean[] = [];
    reloader = await createReloader({ file, build: compileRouter, logger: log.logger, onResult: (ok) => results.push(ok), debounceMs: 20, signal: false });
    const model = () => reloader!.current().decide(requestFacts({ method: 'POST', path: '/', headers: {}, sessions: { header: 'x-session-id' } })).target.model;

    write(valid('v1'), false);
    await until(() => model() === 'v1');
    write(valid('v2'), true);
    await until(() => model() === 'v2');
    write(invalid[1]!('bad'), true);
    await until(() => results.at(-1) === false);
    expect(model()).toBe('v2');
    expect(log.errors.at(-1)).toContain(`unknown matcher "headr"`);
    rmSync(file);
    await new Promise((r) => setTimeout(r, 100));
    expect(model()).toBe('v2');
    write(valid('v3'), false);
    await until(() => model() === 'v3');
    // Touching the file without changing it does not rebuild.
    const before = reloader.current();
    const count = results.length;
    write(valid('v3'), false);
    await new Promise((r) => setTimeout(r, 150));
    expect(reloader.current()).toBe(before);
    expect(results.length).toBe(count);
  });

  it('reloads on SIGHUP', async () => {
    write(valid('v0'), false);
    reloader = await createReloader({ file, build: compileRouter, logger: pino({ level: 'silent' }), watch: false });
    write(valid('v1'), false);
    process.kill(process.pid, 'SIGHUP');
    await until(() => reloader!.current().decide(requestFacts({ method: 'POST', path: '/', headers: {}, sessions: { header: 'x-session-id' } })).target.model === 'v1');
    reloader.close();
    // After close the signal no longer reloads (and, with no listener left in this test, must not kill us either: re-add one).
    const keepAlive = () => {};
    process.on('SIGHUP', keepAlive);
    write(valid('v2'), false);
    process.kill(process.pid, 'SIGHUP');
    await new Promise((r) => setTimeout(r, 100));
    process.off('SIGHUP', keepAlive);
    expect(reloader.current().decide(requestFacts({ method: 'POST', path: '/', headers: {}, sessions: { header: 'x-session-id' } })).target.model).toBe('v1');
  });

  it('a request in flight keeps the snapshot it started with', async () => {
    write(valid('v0'), false);
    reloader = await createReloader({ file, build: compileRouter, logger: pino({ level: 'silent' }), watch: false, signal: false });
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const url = await startApp(reloader, gate);
    const slow = ask(url, { 'x-slow': '1' });
    await new Promise((r) => setTimeout(r, 50));
    write(valid('v1'), false);
    expect(await reloader.reload()).toBe(true);
    expect((await ask(url)).model).toBe('v1');
    open();
    expect((await slow).model).toBe('v0');
  });

  it('a build that throws (sync or async) keeps the old snapshot; a throwing onResult is contained', async () => {
    write(valid('v0'), false);
    const log = captureLogger();
    let fail: 'no' | 'sync' | 'async' = 'no';
    const build = (config: Config) => {
      if (fail === 'sync') throw new Error('boom');
      if (fail === 'async') return Promise.reject(new Error('later boom'));
      return compileRouter(config);
    };
    reloader = await createReloader<Router>({
      file,
      build,
      logger: log.logger,
      watch: false,
      signal: false,
      onResult: () => {
        throw new Error('callback bug');
      },
    });
    const first = reloader.current();
    fail = 'sync';
    expect(await reloader.reload()).toBe(false);
    fail = 'async';
    expect(await reloader.reload()).toBe(false);
    expect(reloader.current()).toBe(first);
    expect(log.errors).toEqual([
      'config reload failed while building, keeping the previous config: boom',
      'config reload: the onResult callback threw',
      'config reload failed while building, keeping the previous config: later boom',
      'config reload: the onResult callback threw',
    ]);
    fail = 'no';
    expect(await reloader.reload()).toBe(true);
    expect(reloader.current()).not.toBe(first);
  });

  it('concurrent reload calls share one follow-up run that reads the latest file', async () => {
    write(valid('v0'), false);
    let builds = 0;
    reloader = await createReloader({
      file,
      build: async (c) => {
        builds++;
        await new Promise((r) => setTimeout(r, 30));
        return compileRouter(c);
      },
      logger: pino({ level: 'silent' }),
      watch: false,
      signal: false,
    });
    builds = 0;
    write(valid('v1'), false);
    const a = reloader.reload();
    write(valid('v2'), false);
    const b = reloader.reload();
    const c = reloader.reload();
    expect(b).toBe(c);
    expect(await Promise.all([a, b, c])).toEqual([true, true, true]);
    expect(builds).toBe(2);
    expect(reloader.current().decide(requestFacts({ method: 'POST', path: '/', headers: {}, sessions: { header: 'x-session-id' } })).target.model).toBe('v2');
  });

  it('refuses to start on an invalid file', async () => {
    write(invalid[2]!('bad'), false);
    await expect(createReloader({ file, build: compileRouter, logger: pino({ level: 'silent' }), watch: false, signal: false })).rejects.toThrow(
      `routes.sessions.backend: unknown backend "bedrok"; defined: azure, bedrock (${file}:7)`,
    );
  });
});
