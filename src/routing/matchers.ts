// Matchers compiled once, at config load, into closures: regexes built once, globs turned into
// anchored regexes, dotted body paths split once, header names lower-cased. Each compiled matcher
// has a fast `test` for the hot path and a `trace` that says why it matched or not (for explain),
// down to the failing leaf.
import { GLOB_SPECIAL, MATCHER_KEYS, type Matcher } from '../config/routing.js';
import { readPath, splitPath, type RequestFacts } from './facts.js';

export interface MatchTrace {
  ok: boolean;
  /** Why it matched, or why not: the failing leaf matcher, prefixed by the combinators above it. */
  text: string;
}

export interface CompiledMatcher {
  test(facts: RequestFacts): boolean;
  trace(facts: RequestFacts): MatchTrace;
}

export function compileMatcher(m: Matcher): CompiledMatcher {
  const key = MATCHER_KEYS.find((k) => m[k] !== undefined);
  switch (key) {
    case 'path':
      return pathMatcher(m.path!);
    case 'method':
      return methodMatcher(m.method!);
    case 'header':
      return headerMatcher(m.header!);
    case 'body':
      return bodyMatcher(m.body!);
    case 'tenant':
      return tenantMatcher(m.tenant!);
    case 'model':
      return modelMatcher(m.model!);
    case 'hasSession':
      return sessionMatcher(m.hasSession!);
    case 'all':
      return allMatcher(m.all!.map(compileMatcher));
    case 'any':
      return anyMatcher(m.any!.map(compileMatcher));
    case 'not':
      return notMatcher(compileMatcher(m.not!));
    default:
      // The schema guarantees one key; reaching this means an unvalidated config.
      throw new Error(`a matcher needs one of ${MATCHER_KEYS.join(', ')}; got ${JSON.stringify(m)}`);
  }
}

/** `*` = any run of characters, `?` = one character; everything else literal; anchored. */
export function globToRegExp(glob: string): RegExp {
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 's');
}

// ---- leaves -------------------------------------------------------------------------------------

/** A leaf: `test` decides; `trace` reuses it and only builds text. */
function leaf(test: (f: RequestFacts) => boolean, why: (f: RequestFacts, ok: boolean) => string): CompiledMatcher {
  return { test, trace: (f) => ({ ok: test(f), text: why(f, test(f)) }) };
}

type PathMatch = NonNullable<Matcher['path']>;
function pathMatcher(p: PathMatch): CompiledMatcher {
  if (typeof p === 'string' || p.equals !== undefined) {
    const want = typeof p === 'string' ? p : p.equals!;
    return leaf((f) => f.path === want, (f, ok) => (ok ? `path is ${q(want)}` : `path ${q(f.path)} is not ${q(want)}`));
  }
  if (p.prefix !== undefined) {
    const prefix = p.prefix;
    return leaf(
      (f) => f.path.startsWith(prefix),
      (f, ok) => `path ${q(f.path)} ${ok ? 'starts' : 'does not start'} with ${q(prefix)}`,
    );
  }
  const re = new RegExp(p.regex!);
  return leaf((f) => re.test(f.path), (f, ok) => `path ${q(f.path)} ${ok ? 'matches' : 'does not match'} /${re.source}/`);
}

function methodMatcher(method: string | string[]): CompiledMatcher {
  const wanted = (Array.isArray(method) ? method : [method]).map((m) => m.toUpperCase());
  const label = wanted.length === 1 ? wanted[0]! : `one of ${wanted.join(', ')}`;
  if (wanted.length === 1) {
    const only = wanted[0]!;
    return leaf((f) => f.method === only, (f, ok) => `method ${f.method} is ${ok ? '' : 'not '}${label}`);
  }
  const set = new Set(wanted);
  return leaf((f) => set.has(f.method), (f, ok) => `method ${f.method} is ${ok ? '' : 'not '}${label}`);
}

// Values of these headers never appear in explain output.
export const SECRET_HEADERS: ReadonlySet<string> = new Set(['authorization', 'api-key', 'x-api-key', 'cookie', 'proxy-authorization']);

type HeaderMatch = NonNullable<Matcher['header']>;
function headerMatcher(h: HeaderMatch): CompiledMatcher {
  const spec = typeof h === 'string' ? { name: h } : h;
  const name = spec.name.toLowerCase();
  const label = `header ${q(name)}`;
  const shown = (v: string) => (SECRET_HEADERS.has(name) ? '[REDACTED]' : q(v));
  const get = (f: RequestFacts) => f.headers.get(name);
  if (spec.equals !== undefined) {
    const want = spec.equals;
    return leaf(
      (f) => get(f) === want,
      (f, ok) => {
        const v = get(f);
        return ok ? `${label} is ${shown(want)}` : v === undefined ? `${label} is absent` : `${label} is ${shown(v)}, not ${shown(want)}`;
      },
    );
  }
  if (spec.regex !== undefined) {
    const re = new RegExp(spec.regex);
    return leaf(
      (f) => {
        const v = get(f);
        return v !== undefined && re.test(v);
      },
      (f, ok) => {
        const v = get(f);
        return v === undefined ? `${label} is absent` : `${label} ${shown(v)} ${ok ? 'matches' : 'does not match'} /${re.source}/`;
      },
    );
  }
  const present = spec.present ?? true;
  return leaf((f) => (get(f) !== undefined) === present, (f) => `${label} is ${get(f) === undefined ? 'absent' : 'present'}`);
}

type BodyMatch = NonNullable<Matcher['body']>;
function bodyMatcher(b: BodyMatch): CompiledMatcher {
  const spec = typeof b === 'string' ? { field: b } : b;
  const path = splitPath(spec.field);
  const label = `body ${q(spec.field)}`;
  // JSON null counts as absent: SDKs send `"previous_response_id": null` for "none".
  const get = (f: RequestFacts) => {
    const v = readPath(f.body, path);
    return v === null ? undefined : v;
  };
  if (spec.equals !== undefined) {
    const want = spec.equals;
    const eq = equalsTo(want);
    return leaf(
      (f) => eq(readPath(f.body, path)),
      (f, ok) => {
        const v = readPath(f.body, path);
        return ok ? `${label} is ${show(want)}` : v === undefined ? `${label} is absent` : `${label} is ${show(v)}, not ${show(want)}`;
      },
    );
  }
  if (spec.in !== undefined) {
    const list = spec.in;
    const primitives = list.every((v) => v === null || typeof v !== 'object');
    const set = new Set(list);
    const tests = list.map(equalsTo);
    const has = primitives ? (v: unknown) => set.has(v) : (v: unknown) => tests.some((t) => t(v));
    const listText = list.map(show).join(', ');
    return leaf(
      (f) => has(readPath(f.body, path)),
      (f, ok) => {
        const v = readPath(f.body, path);
        return v === undefined ? `${label} is absent` : `${label} ${show(v)} is ${ok ? '' : 'not '}one of ${listText}`;
      },
    );
  }
  if (spec.regex !== undefined) {
    const re = new RegExp(spec.regex);
    const text = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);
    return leaf(
      (f) => {
        const t = text(get(f));
        return t !== undefined && re.test(t);
      },
      (f, ok) => {
        const v = get(f);
        if (v === undefined) return `${label} is absent`;
        if (text(v) === undefined) return `${label} is ${Array.isArray(v) ? 'an array' : 'an object'}, not text`;
        return `${label} ${show(v)} ${ok ? 'matches' : 'does not match'} /${re.source}/`;
      },
    );
  }
  const present = spec.present ?? true;
  return leaf((f) => (get(f) !== undefined) === present, (f) => `${label} is ${get(f) === undefined ? 'absent' : 'present'}`);
}

function tenantMatcher(tenant: string | string[]): CompiledMatcher {
  const wanted = Array.isArray(tenant) ? tenant : [tenant];
  const set = new Set(wanted);
  const label = wanted.length === 1 ? wanted[0]! : `one of ${wanted.join(', ')}`;
  return leaf(
    (f) => f.tenant !== undefined && set.has(f.tenant),
    (f, ok) => (f.tenant === undefined ? 'no tenant (no gateway key)' : `tenant ${q(f.tenant)} is ${ok ? '' : 'not '}${label}`),
  );
}

type ModelMatch = NonNullable<Matcher['model']>;
function modelMatcher(m: ModelMatch): CompiledMatcher {
  const glob = typeof m === 'string' ? (GLOB_SPECIAL.test(m) ? m : undefined) : m.glob;
  if (glob !== undefined) {
    const re = globToRegExp(glob);
    return leaf(
      (f) => f.model !== undefined && re.test(f.model),
      (f, ok) => (f.model === undefined ? 'the body has no model' : `model ${q(f.model)} ${ok ? 'matches' : 'does not match'} ${q(glob)}`),
    );
  }
  const want = typeof m === 'string' ? m : m.equals!;
  return leaf(
    (f) => f.model === want,
    (f, ok) => (f.model === undefined ? 'the body has no model' : ok ? `model is ${q(want)}` : `model ${q(f.model)} is not ${q(want)}`),
  );
}

function sessionMatcher(want: boolean): CompiledMatcher {
  return leaf(
    (f) => (f.sessionId !== undefined) === want,
    (f) => (f.sessionId === undefined ? 'no session' : `has a session (from ${f.sessionSource})`),
  );
}

// ---- combinators --------------------------------------------------------------------------------

function allMatcher(items: CompiledMatcher[]): CompiledMatcher {
  return {
    test(f) {
      for (let i = 0; i < items.length; i++) if (!items[i]!.test(f)) return false;
      return true;
    },
    trace(f) {
      const traces = [];
      for (let i = 0; i < items.length; i++) {
        const t = items[i]!.trace(f);
        if (!t.ok) return { ok: false, text: `all[${i}]: ${t.text}` };
        traces.push(t.text);
      }
      return { ok: true, text: `all: ${traces.join('; ')}` };
    },
  };
}

function anyMatcher(items: CompiledMatcher[]): CompiledMatcher {
  return {
    test(f) {
      for (let i = 0; i < items.length; i++) if (items[i]!.test(f)) return true;
      return false;
    },
    trace(f) {
      const traces = [];
      for (let i = 0; i < items.length; i++) {
        const t = items[i]!.trace(f);
        if (t.ok) return { ok: true, text: `any[${i}]: ${t.text}` };
        traces.push(t.text);
      }
      return { ok: false, text: `any: none matched (${traces.join('; ')})` };
    },
  };
}

function notMatcher(inner: CompiledMatcher): CompiledMatcher {
  return {
    test: (f) => !inner.test(f),
    trace(f) {
      const t = inner.trace(f);
      return { ok: !t.ok, text: `not: ${t.text}` };
    },
  };
}

// ---- helpers ------------------------------------------------------------------------------------

const q = (s: string) => JSON.stringify(s);

function show(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function equalsTo(want: unknown): (v: unknown) => boolean {
  if (want === null || typeof want !== 'object') return (v) => v === want;
  return (v) => deepEqual(v, want);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
