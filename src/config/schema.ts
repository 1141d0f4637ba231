// The whole config file as one zod schema: the single source of the config's TypeScript types.
import { z } from 'zod';
import { backendFactories, backendKindOf } from '../backends/registry.js';
import { limitsSchema } from './limits.js';
import { meteringSchema } from './metering.js';
import { routingSchema } from './routing.js';
import { sessionsSchema } from './sessions.js';

const [first, ...rest] = backendFactories.map((f) => f.configSchema);
const backendSchema = z.discriminatedUnion('type', [first!, ...rest] as never as [z.ZodObject, ...z.ZodObject[]]);

const gatewayKeySchema = z
  .object({
    name: z.string().min(1),
    tenant: z.string().min(1).regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." and "-" only'),
    /** The key itself, normally from ${ENV}. Hashed at load; never logged. */
    key: z.string().min(16, 'a gateway key needs at least 16 characters').optional(),
    /** Or its SHA-256 in hex, so the file holds no secret. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (sha256 of the key)').optional(),
  })
  .strict()
  .refine((k) => !k.key !== !k.sha256, { message: 'give exactly one of "key" or "sha256"', path: ['key'] });

export const configSchema = z
  .object({
    listen: z
      .object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8080) })
      .strict()
      .default({ host: '127.0.0.1', port: 8080 }),
    server: z
      .object({
        bodyLimitBytes: z.number().int().positive().default(4 * 1024 * 1024),
        /** SIGTERM: stop accepting, let in-flight requests and streams finish up to this long. */
        shutdownGraceMs: z.number().int().min(0).default(15_000),
        /** Deepest JSON nesting a request body may have. */
        maxJsonDepth: z.number().int().min(4).max(1000).default(64),
        /** Most messages (chat) or input items (Responses) one request may carry. */
        maxMessages: z.number().int().positive().default(4096),
        /** Browser clients: the origins allowed to call the gateway (exact, or "*"). Off when absent. */
        cors: z
          .object({
            origins: z.array(z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/, 'an origin is "*" or scheme://host[:port], without a path')).min(1),
            maxAgeSeconds: z.number().int().min(0).max(86_400).default(600),
            /** Allow cookies / HTTP auth; needs explicit origins (browsers refuse "*" with credentials). */
            credentials: z.boolean().default(false),
          })
          .strict()
          .refine((c) => !(c.credentials && c.origins.includes('*')), { message: 'credentials: true needs explicit origins, not "*"', path: ['credentials'] })
          .optional(),
      })
      .strict()
      .default({ bodyLimitBytes: 4 * 1024 * 1024, shutdownGraceMs: 15_000, maxJsonDepth: 64, maxMessages: 4096 }),
    /** Operator surfaces (/metrics): behind an admin key, on a separate listener, or both. */
    admin: z
      .object({
        key: z.string().min(16, 'an admin key needs at least 16 characters').optional(),
        listen: z.object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535) }).strict().optional(),
      })
      .strict()
      .default({}),
    logging: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .default({ level: 'info' }),
    auth: z
      .object({ mode: z.enum(['keys', 'none']).default('keys'), keys: z.array(gatewayKeySchema).default([]) })
      .strict()
      .default({ mode: 'keys', keys: [] }),
    backends: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/), backendSchema).refine((b) => Object.keys(b).length > 0, 'at least one backend is required'),
    ...routingSchema,
    sessions: sessionsSchema.default(() => sessionsSchema.parse({})),
    metering: meteringSchema.default(() => meteringSchema.parse({})),
    limits: limitsSchema.default(() => limitsSchema.parse({})),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    if (cfg.auth.mode === 'keys' && cfg.auth.keys.length === 0)
      ctx.addIssue({ code: 'custom', path: ['auth', 'keys'], message: 'at least one key is required, or set auth.mode: none explicitly' });
    // A misspelt tenant under limits.tenants would silently leave the real tenant on the defaults.
    const tenants = new Set(cfg.auth.mode === 'none' ? ['anonymous'] : cfg.auth.keys.map((k) => k.tenant));
    for (const name of Object.keys(cfg.limits.tenants))
      if (!tenants.has(name)) ctx.addIssue({ code: 'custom', path: ['limits', 'tenants', name], message: `no gateway key has tenant "${name}"; known: ${[...tenants].join(', ')}` });
    // --- routing cross-checks (owned by src/routing) ---
    const backendNames = Object.keys(cfg.backends);
    const checkTarget = (backend: string, kind: string, path: (string | number)[]) => {
      const b = cfg.backends[backend];
      if (!b) return ctx.addIssue({ code: 'custom', path, message: `unknown backend "${backend}"; defined: ${backendNames.join(', ')}` });
      const bKind = backendKindOf((b as { type: string }).type);
      if (bKind !== kind) ctx.addIssue({ code: 'custom', path, message: `a ${kind} route cannot use backend "${backend}", which is ${bKind}` });
    };
    for (const [name, route] of Object.entries(cfg.routes ?? {})) {
      if (route.backend) checkTarget(route.backend, route.kind, ['routes', name, 'backend']);
      route.split?.forEach((t, i) => checkTarget(t.backend, route.kind, ['routes', name, 'split', i, 'backend']));
      route.fallbacks.forEach((t, i) => checkTarget(t.backend, route.kind, ['routes', name, 'fallbacks', i, 'backend']));
    }
    const routeNames = Object.keys(cfg.routes ?? {});
    if (cfg.routes) {
      if (!cfg.default) ctx.addIssue({ code: 'custom', path: ['default'], message: `required when routes are defined: one of ${routeNames.join(', ')}` });
      else if (!cfg.routes[cfg.default]) ctx.addIssue({ code: 'custom', path: ['default'], message: `unknown route "${cfg.default}"; defined: ${routeNames.join(', ')}` });
    } else {
      const builtIn = 'without a "routes" section the built-in routing applies; define routes to use';
      if (cfg.rules.length) ctx.addIssue({ code: 'custom', path: ['rules'], message: `${builtIn} rules` });
      if (cfg.default) ctx.addIssue({ code: 'custom', path: ['default'], message: `${builtIn} default` });
    }
    const seen = new Set<string>();
    cfg.rules.forEach((rule, i) => {
      if (seen.has(rule.name)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `duplicate rule name "${rule.name}"` });
      seen.add(rule.name);
      if (cfg.routes && !cfg.routes[rule.route]) ctx.addIssue({ code: 'custom', path: ['rules', i, 'route'], message: `unknown route "${rule.route}"; defined: ${routeNames.join(', ')}` });
    });
    // --- end of routing cross-checks ---
  });

export type Config = z.infer<typeof configSchema>;
export type BackendConfig = Config['backends'][string];
