import { pino, type Logger, type DestinationStream } from 'pino';

// Secrets must never reach a log line, whatever object a caller hands the logger.
const REDACT = [
  'authorization', 'apiKey', 'api_key', 'key', 'secretAccessKey', 'sessionToken', 'password',
  '*.authorization', '*.apiKey', '*.api-key', '*.key', '*.secretAccessKey', '*.sessionToken', '*.password',
  'headers.authorization', 'headers["api-key"]', '*.headers.authorization', '*.headers["api-key"]',
];

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    { level: options.level ?? 'info', base: { service: 'stateroute' }, redact: { paths: REDACT, censor: '[REDACTED]' } },
    options.destination,
  );
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
