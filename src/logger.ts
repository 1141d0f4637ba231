// The gateway's logger. Secrets must never reach a log line, whatever a caller hands the logger, at
// any depth. One walk sees everything a log call is given — the merging object, the message, values
// interpolated into it, a child's bindings — and writes a redacted copy; the caller's object is
// never changed, and an object holding no secret is passed on as is.
//
// The rule:
// - A property is a secret by its name, compared in lower case with "-" and "_" dropped (so
//   `Api-Key`, `api_key` and `apiKey` are one name): `key`, `authorization`, `proxy-authorization`,
//   `cookie`, `set-cookie`, or a name ending in `apikey(s)`, `secretkey(s)`, `privatekey(s)`,
//   `subscriptionkey(s)`, `secretaccesskey`, `password(s)`, `passwd`, `secret(s)` or `token`.
//   Its value, whatever its type, prints as "[REDACTED]".
// - Not secrets, kept for operators: `accessKeyId` (the id AWS itself prints, to find the key in
//   IAM), `keyPrefix`, `sha256` (a key's hash), `tokens` and every `*_tokens` count, `auth` and
//   `credentials` as containers (their secret fields are hidden one by one; `cors.credentials` is a
//   boolean).
// - In every string: a URL's userinfo password (`redis://user:[REDACTED]@host`; userinfo with no
//   ":" is hidden whole, as it is often a token), and a query parameter whose name is a secret
//   (`?api-key=[REDACTED]`).
// - Errors print as pino's `err` serializer prints them (type, message with causes, stack, own
//   props), wherever they sit, and what it produces is walked like the rest.
// - A `Headers` instance prints as its entries (JSON shows `{}`); an object with `toJSON` as what it
//   returns (a `URL` is its href, so its password is masked).
// - Past MAX_DEPTH levels an object prints as "[Object]" (an array as "[Array]"), a cycle as
//   "[Circular]": nothing reaches the line unwalked. (pino's own depth and breadth limits only apply
//   to what JSON cannot print, i.e. cycles, which the walk has already replaced.)
// - In every string, a credential after an HTTP auth scheme: `Bearer <token>` (any case), and
//   `Basic <base64 of 12 characters or more>` (so the English "basic" is left alone).
// - In an array, the item after a string (or small Buffer) that is a secret's name: a raw header
//   list as Node and undici keep it (`['authorization', 'Bearer …', 'api-key', '…']`).
// - A `Map` or `Set` prints as `{}` (JSON has no form for them): nothing in one reaches the line.
// Values are otherwise not guessed at: a secret under a harmless name in free text (`data: "sk-…"`)
// is not found.
//
// Why a hook on the log method and not pino's `redact.paths`: paths are fixed depths and exact
// case, and a wildcard per depth and spelling would be a long list that still misses the next
// shape. Why `hooks.logMethod` and not `formatters.log`: the hook sees the message and the
// interpolated values too, and runs before pino takes a missing message from an error (so it can
// hand pino that message masked). It runs only for enabled levels, so a request that logs nothing pays nothing;
// a flat object of short fields (the access log line) costs a name test per key and two `includes`
// per string.
import { pino, type Logger, type DestinationStream, type LogFn } from 'pino';

const REDACTED = '[REDACTED]';
/** Deeper than anything the gateway logs: the whole config under one key is five levels
 * (`config.backends.bedrock.credentials.secretAccessKey`), an error holding it six. */
const MAX_DEPTH = 10;

// A cheap test first: most keys (method, path, status, tenant) contain none of these words.
const MAYBE_SECRET = /key|auth|cookie|pass|secret|token/i;
const SECRET_NAME =
  /^(?:key|(?:proxy)?authorization|(?:set)?cookie|.*(?:(?:api|secret|private|subscription)keys?|secretaccesskey|passwords?|passwd|secrets?|token))$/;

function isSecretName(name: string): boolean {
  return MAYBE_SECRET.test(name) && SECRET_NAME.test(name.toLowerCase().replace(/[-_]/g, ''));
}

// Greedy up to the authority's last "@", so a password holding a raw "@" is masked whole.
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^\s/?#]*)@/gi;
const QUERY_PARAM = /([?&])([^=&#\s]+)=([^&#\s]*)/g;

// A token68 (RFC 9110 §11.2) after the scheme; Basic's must look like base64, not a word.
const AUTH_SCHEME = /\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*|\b(basic\s+)[A-Za-z0-9+/]{12,}={0,2}/gi;

/** `text` with URL passwords, secret query parameters and auth-scheme credentials masked. */
function maskSecretsIn(text: string): string {
  let out = text;
  if (/bearer|basic/i.test(out)) out = out.replace(AUTH_SCHEME, (_m, bearer: string | undefined, basic: string | undefined) => `${bearer ?? basic}${REDACTED}`);
  if (out.includes('://'))
    out = out.replace(URL_USERINFO, (_m, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      return `${scheme}${colon < 0 ? REDACTED : `${userinfo.slice(0, colon)}:${REDACTED}`}@`;
    });
  if (out.includes('='))
    out = out.replace(QUERY_PARAM, (whole, sep: string, name: string) => (isSecretName(name) ? `${sep}${name}=${REDACTED}` : whole));
  return out;
}

type Walked = Record<string, unknown>;

/** `value` as it may be logged under `key`: the same value when it holds no secret, else a copy. */
function redact(value: unknown, key: string, depth: number, path: object[]): unknown {
  if (typeof value === 'string') return maskSecretsIn(value);
  if (typeof value !== 'object' || value === null) return value;
  if (path.includes(value)) return '[Circular]'; // the original, which may hold what the copy hides
  let shown: unknown = value;
  // pino serialises `err` when it is error-like; an Error elsewhere would print as `{}` plus its props.
  if (value instanceof Error || (key === 'err' && depth === 1)) shown = pino.stdSerializers.err(value as Error);
  else if (value instanceof Headers) shown = Object.fromEntries(value);
  else if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    shown = (value as { toJSON: (key: string) => unknown }).toJSON(key);
    if (typeof shown !== 'object' || shown === null) return redact(shown, key, depth, path);
  }
  if (depth >= MAX_DEPTH) return Array.isArray(shown) ? '[Array]' : '[Object]';
  path.push(value);
  try {
    return Array.isArray(shown) ? redactItems(shown, depth, path) : redactFields(shown as Walked, depth, path);
  } finally {
    path.pop();
  }
}

/** A raw header list's name: a string, or a short Buffer as undici keeps them. */
function isSecretItem(item: unknown): boolean {
  if (typeof item === 'string') return item.length <= 64 && isSecretName(item);
  return Buffer.isBuffer(item) && item.length <= 64 && isSecretName(item.toString('latin1'));
}

function redactItems(items: unknown[], depth: number, path: object[]): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const shown = i > 0 && isSecretItem(items[i - 1]) ? REDACTED : redact(item, '', depth + 1, path);
    if (shown !== item) out ??= items.slice(0, i);
    if (out) out[i] = shown;
  }
  return out ?? items;
}

function redactFields(fields: Walked, depth: number, path: object[]): Walked {
  let out: Walked | undefined;
  const keys = Object.keys(fields);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const field = fields[key];
    const shown = field === undefined ? field : isSecretName(key) ? REDACTED : redact(field, key, depth + 1, path);
    if (shown !== field && !out) {
      out = {};
      for (let j = 0; j < i; j++) setField(out, keys[j]!, fields[keys[j]!]);
    }
    if (out) setField(out, key, shown);
  }
  return out ?? fields;
}

/** A logged "__proto__" key stays a key instead of becoming the copy's prototype. (Not a
 * null-prototype copy: pino calls `bindings.hasOwnProperty`.) */
function setField(out: Walked, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

/** The merging object or bindings of a log call, redacted. A throwing getter or `toJSON` would
 * have made pino print nothing useful either; it must not make the log call throw. */
function redactTop(fields: object): object {
  try {
    if (fields instanceof Error) return { err: redact(fields, 'err', 1, []) };
    return redactFields(fields as Walked, 0, [fields]);
  } catch {
    return { redactionFailed: true };
  }
}

/** Anything but an object goes to pino as is, so its "missing bindings" error still reaches the caller. */
const redactBindings = (bindings: pino.Bindings): pino.Bindings =>
  typeof bindings === 'object' && bindings !== null ? (redactTop(bindings) as pino.Bindings) : bindings;

function redactArg(arg: unknown): unknown {
  try {
    return redact(arg, '', 1, []);
  } catch {
    return REDACTED;
  }
}

/** A log call's arguments — merging object, message, interpolated values — redacted. */
function redactLogArgs(args: unknown[]): unknown[] {
  const [first, ...rest] = args;
  if (typeof first !== 'object' || first === null) return args.map(redactArg);
  // What pino's LOG would do with a raw http request or response, done before the walk.
  const o = first as { method?: unknown; headers?: unknown; socket?: unknown; setHeader?: unknown; msg?: unknown; err?: { message?: unknown } };
  const mapped = o.method && o.headers && o.socket ? pino.stdSerializers.mapHttpRequest(o as never) : typeof o.setHeader === 'function' ? pino.stdSerializers.mapHttpResponse(o as never) : o;
  // With no message pino takes the error's own message; the serialised one would append its causes.
  const fallback = first instanceof Error ? first.message : o.msg === undefined ? o.err?.message : undefined;
  if (rest[0] === undefined && typeof fallback === 'string') rest[0] = fallback;
  return [redactTop(mapped), ...rest.map(redactArg)];
}

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { service: 'stateroute' },
      // The hook serialised `err` already (and redacted the result); pino's serializer would read
      // that plain copy as a new error of type "Object".
      serializers: { err: (err: unknown) => err },
      hooks: {
        logMethod(args: unknown[], method: LogFn) {
          (method as (...a: unknown[]) => void).apply(this, redactLogArgs(args));
        },
      },
    },
    options.destination,
  );
  // pino writes a child's bindings once, at child(), and formatters.bindings sees only `base`; every
  // child inherits this child() through its prototype, lazy children and grandchildren included.
  const child = logger.child as unknown as (this: Logger, bindings: pino.Bindings, options?: pino.ChildLoggerOptions) => Logger;
  logger.child = function redactingChild(this: Logger, bindings: pino.Bindings, childOptions?: pino.ChildLoggerOptions) {
    return child.call(this, redactBindings(bindings), childOptions);
  } as unknown as Logger['child'];
  const setBindings = logger.setBindings;
  logger.setBindings = function redactingSetBindings(this: Logger, bindings: pino.Bindings) {
    setBindings.call(this, redactBindings(bindings));
  };
  return logger;
}

const kBindings = Symbol('bindings');
const kReal = Symbol('real');
type Lazy = Logger & { [kBindings]: pino.Bindings; [kReal]?: Logger };
const lazyPrototypes = new WeakMap<Logger, object>();

/** The prototype of `base`'s lazy children: each log method makes the real child on first use. */
function lazyPrototype(base: Logger): object {
  let proto = lazyPrototypes.get(base);
  if (proto) return proto;
  const real = (self: Lazy): Logger => (self[kReal] ??= base.child(self[kBindings]));
  const methods: Record<string, unknown> = {
    child(this: Lazy, bindings: pino.Bindings, options?: pino.ChildLoggerOptions) {
      return real(this).child(bindings, options);
    },
    bindings(this: Lazy) {
      return real(this).bindings();
    },
  };
  for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const)
    methods[level] = function (this: Lazy, ...args: unknown[]) {
      if (!base.isLevelEnabled(level)) return;
      (real(this)[level] as (...a: unknown[]) => void)(...args);
    };
  proto = Object.assign(Object.create(base) as object, methods);
  lazyPrototypes.set(base, proto);
  return proto;
}

/** `base.child(bindings)`, made only when something is logged: most requests log nothing, and
 * pino's child() serialises its bindings up front (~5 µs, once per request on the hot path). */
export function lazyChild(base: Logger, bindings: pino.Bindings): Logger {
  const lazy = Object.create(lazyPrototype(base)) as Lazy;
  lazy[kBindings] = bindings;
  return lazy;
}
