import { z } from 'zod';
import { resilienceSchema } from './resilience.js';

// Routing section of the config: named routes, ordered rules (first match wins) and a default.
// Cross-checks against `backends` live in schema.ts, where both sections are known.
//
// A matcher is an object with exactly one key. It is one object schema with every matcher key
// optional (not a union), so a mistake inside a matcher is reported at its own field and line, and
// an unknown key gets a message that lists the allowed ones.

export const MATCHER_KEYS = ['path', 'method', 'header', 'body', 'tenant', 'model', 'hasSession', 'all', 'any', 'not'] as const;
export type MatcherKey = (typeof MATCHER_KEYS)[number];

const custom = (ctx: z.RefinementCtx, message: string, path?: (string | number)[]) =>
  ctx.addIssue({ code: 'custom', message, ...(path ? { path } : {}) });

/** A JavaScript regular expression source (no slashes, no flags), checked to compile at load. */
const regexSource = z.string().superRefine((source, ctx) => {
  try {
    new RegExp(source);
  } catch (err) {
    custom(ctx, `not a valid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
});

/** `*` = any run of characters, `?` = exactly one; nothing else is special. */
export const GLOB_SPECIAL = /[*?]/;
const globSource = z.string().superRefine((glob, ctx) => {
  if (glob === '') return custom(ctx, 'a glob cannot be empty');
  const bad = /[[\]{}\\]/.exec(glob);
  if (bad) custom(ctx, `invalid glob "${glob}": only * and ? are wildcards; "${bad[0]}" is not supported`);
});

const exactlyOne = <T extends object>(obj: T, keys: (keyof T & string)[], ctx: z.RefinementCtx, what: string, allowNone = false) => {
  const given = keys.filter((k) => obj[k] !== undefined);
  if (given.length > 1) custom(ctx, `${what}: give only one of ${keys.join(', ')} (found ${given.join(' and ')})`, [given[1]!]);
  else if (given.length === 0 && !allowNone) custom(ctx, `${what}: give one of ${keys.join(', ')}`);
};

/**
 * A value written in a short form (a string) or a long form (an object, or a list). Unlike z.union,
 * whose error for a wrong value is "does not match any allowed form", a mistake is reported inside
 * the form the value was written in, and a value of neither form gets a message naming both.
 */
function shortOrLong<S extends z.ZodType, L extends z.ZodType>(short: S, long: L, longKind: 'object' | 'list', expected: string) {
  return z.unknown().transform((value, ctx): z.output<S> | z.output<L> => {
    const isLong = longKind === 'list' ? Array.isArray(value) : typeof value === 'object' && value !== null && !Array.isArray(value);
    const schema = typeof value === 'string' ? short : isLong ? long : undefined;
    if (!schema) {
      ctx.addIssue({ code: 'custom', message: `expected ${expected}` });
      return z.NEVER;
    }
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    // Forwarded as they are (paths relative to this value): the loader words them as usual.
    for (const issue of result.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
    return z.NEVER;
  });
}

const pathMatch = shortOrLong(
  z.string().startsWith('/', 'a path starts with "/"'),
  z
    .object({
      equals: z.string().startsWith('/', 'a path starts with "/"').optional(),
      prefix: z.string().startsWith('/', 'a path starts with "/"').optional(),
      regex: regexSource.optional(),
    })
    .strict()
    .superRefine((p, ctx) => exactlyOne(p, ['equals', 'prefix', 'regex'], ctx, 'path matcher')),
  'object',
  'a path such as /v1/responses, or { equals | prefix | regex }',
);

const methodName = z.string().regex(/^[A-Za-z]+$/, 'an HTTP method name, e.g. POST');

const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'not a valid HTTP header name');
const headerMatch = shortOrLong(
  headerName,
  z
    .object({ name: headerName, present: z.boolean().optional(), equals: z.string().optional(), regex: regexSource.optional() })
    .strict()
    .superRefine((h, ctx) => exactlyOne(h, ['present', 'equals', 'regex'], ctx, 'header matcher', true)),
  'object',
  'a header name, or { name, present | equals | regex }',
);

/** Dotted path into the parsed body: `metadata.session_id`, `messages.0.role`, `messages.-1.role` (last). */
const bodyField = z.string().regex(/^[^.]+(\.[^.]+)*$/, 'a dotted field path such as "metadata.session_id" (no empty segments)');
const bodyMatch = shortOrLong(
  bodyField,
  z
    .object({
      field: bodyField,
      present: z.boolean().optional(),
      equals: z.unknown().optional(),
      in: z.array(z.unknown()).min(1).optional(),
      regex: regexSource.optional(),
    })
    .strict()
    .superRefine((b, ctx) => exactlyOne(b, ['present', 'equals', 'in', 'regex'], ctx, 'body matcher', true)),
  'object',
  'a body field such as metadata.session_id, or { field, present | equals | in | regex }',
);

const tenants = shortOrLong(z.string().min(1), z.array(z.string().min(1)).min(1, 'give at least one tenant'), 'list', 'a tenant or a list of tenants');

const modelMatch = shortOrLong(
  z.string().min(1).superRefine((m, ctx) => {
    if (GLOB_SPECIAL.test(m)) globSource.safeParse(m).error?.issues.forEach((i) => custom(ctx, i.message));
  }),
  z
    .object({ equals: z.string().min(1).optional(), glob: globSource.optional() })
    .strict()
    .superRefine((m, ctx) => exactlyOne(m, ['equals', 'glob'], ctx, 'model matcher')),
  'object',
  'a model name or glob, or { equals | glob }',
);

export const matcherSchema = z
  .object({
    /** String: exact path. */
    path: pathMatch.optional(),
    /** Case-insensitive; a list means any of them. */
    method: shortOrLong(methodName, z.array(methodName).min(1, 'give at least one method'), 'list', 'a method or a list of methods').optional(),
    /** String: the header is present. Names are case-insensitive. */
    header: headerMatch.optional(),
    /** String: the body field is present (not missing, not null). */
    body: bodyMatch.optional(),
    tenant: tenants.optional(),
    /** String: exact, or a glob when it holds * or ?. */
    model: modelMatch.optional(),
    hasSession: z.boolean().optional(),
    get all(): z.ZodOptional<z.ZodArray<typeof matcherSchema>> {
      return z.array(matcherSchema).min(1, 'give at least one matcher').optional();
    },
    get any(): z.ZodOptional<z.ZodArray<typeof matcherSchema>> {
      return z.array(matcherSchema).min(1, 'give at least one matcher').optional();
    },
    get not(): z.ZodOptional<typeof matcherSchema> {
      return matcherSchema.optional();
    },
  })
  // Unknown keys are kept (not rejected by zod's generic message) so the check below can name them.
  .catchall(z.unknown())
  .superRefine((m, ctx) => {
    const unknown = Object.keys(m).filter((k) => !(MATCHER_KEYS as readonly string[]).includes(k));
    for (const key of unknown) custom(ctx, unknownMatcherMessage(key), [key]);
    const given = MATCHER_KEYS.filter((k) => m[k] !== undefined);
    if (given.length === 0 && unknown.length === 0) custom(ctx, `empty matcher: give one of ${MATCHER_KEYS.join(', ')}`);
    if (given.length > 1)
      custom(ctx, `one matcher per object (found ${given.join(' and ')}); combine them with all: [ … ] or any: [ … ]`, [given[1]!]);
  });

export type Matcher = z.infer<typeof matcherSchema>;

/** The message for a key that is not a matcher: names it, suggests the nearest one, lists the allowed ones. */
export function unknownMatcherMessage(key: string): string {
  let suggestion: string | undefined;
  let best = key.length <= 4 ? 1 : 2; // the most edits still worth a suggestion
  for (const k of MATCHER_KEYS) {
    const d = k.toLowerCase() === key.toLowerCase() ? 0 : editDistance(k, key);
    if (d <= best) [suggestion, best] = [k, d - 1];
  }
  return `unknown matcher "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; allowed: ${MATCHER_KEYS.join(', ')}`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

const nameSchema = (what: string) => z.string().regex(/^[A-Za-z0-9_.:-]+$/, `a ${what} name uses letters, digits, "_", ".", ":" and "-" only`);

export const targetSchema = z
  .object({
    backend: z.string(),
    /** Rewrite the client's model to this one on this target. */
    model: z.string().optional(),
    /** Allowed to continue an interrupted stream from an assistant prefill (failure handling). */
    acceptsPrefill: z.boolean().default(false),
  })
  .strict();

export const splitTargetSchema = z
  .object({
    backend: z.string(),
    /** Model for this target; defaults to the route's `model`, else the client's. */
    model: z.string().optional(),
    weight: z.number().refine((w) => Number.isFinite(w) && w > 0, 'a split weight must be a number greater than 0'),
  })
  .strict();

export const routeSchema = z
  .object({
    kind: z.enum(['stateless', 'stateful']),
    backend: z.string().optional(),
    model: z.string().optional(),
    /** Weighted split across targets instead of a single backend. */
    split: z.array(splitTargetSchema).min(2, 'a split needs at least two targets; use "backend" for one').optional(),
    /** Tried in order when the primary fails (issue #6). */
    fallbacks: z.array(targetSchema).default([]),
    /** Timeouts, retries and circuit breaking for this route; defaults in config/resilience.ts. */
    resilience: resilienceSchema.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (!r.backend === !r.split) custom(ctx, 'a route needs exactly one of "backend" or "split"', ['backend']);
  });

export const ruleSchema = z.object({ name: nameSchema('rule'), when: matcherSchema, route: z.string() }).strict();

export const routingSchema = {
  /** Without `routes` (and `rules`), the built-in routing applies: see src/routing/defaults.ts. */
  routes: z.record(nameSchema('route'), routeSchema).optional(),
  rules: z.array(ruleSchema).default([]),
  default: z.string().optional(),
};

export type RouteConfig = z.infer<typeof routeSchema>;
export type RuleConfig = z.infer<typeof ruleSchema>;
export type TargetConfig = z.infer<typeof targetSchema>;
