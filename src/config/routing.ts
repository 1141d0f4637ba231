import { z } from 'zod';

// Routing section of the config: named routes, ordered rules (first match wins) and a default.
// Cross-checks against `backends` live in schema.ts, where both sections are known.

const stringMatch = z.union([
  z.string(),
  z.object({ equals: z.string() }).strict(),
  z.object({ regex: z.string() }).strict(),
  z.object({ present: z.boolean() }).strict(),
]);

export type Matcher =
  | { path: string | { equals?: string; regex?: string; prefix?: string } }
  | { method: string | string[] }
  | { header: string | { name: string; equals?: string; regex?: string; present?: boolean } }
  | { body: string | { field: string; equals?: unknown; in?: unknown[]; regex?: string; present?: boolean } }
  | { tenant: string | string[] }
  | { model: string | { equals?: string; glob?: string } }
  | { hasSession: boolean }
  | { all: Matcher[] }
  | { any: Matcher[] }
  | { not: Matcher };

export const matcherSchema: z.ZodType<Matcher> = z.lazy(() =>
  z.union([
    z.object({ path: z.union([z.string(), z.object({ equals: z.string().optional(), regex: z.string().optional(), prefix: z.string().optional() }).strict()]) }).strict(),
    z.object({ method: z.union([z.string(), z.array(z.string()).min(1)]) }).strict(),
    z.object({ header: z.union([z.string(), z.object({ name: z.string(), equals: z.string().optional(), regex: z.string().optional(), present: z.boolean().optional() }).strict()]) }).strict(),
    z.object({ body: z.union([z.string(), z.object({ field: z.string(), equals: z.unknown().optional(), in: z.array(z.unknown()).optional(), regex: z.string().optional(), present: z.boolean().optional() }).strict()]) }).strict(),
    z.object({ tenant: z.union([z.string(), z.array(z.string()).min(1)]) }).strict(),
    z.object({ model: z.union([z.string(), z.object({ equals: z.string().optional(), glob: z.string().optional() }).strict()]) }).strict(),
    z.object({ hasSession: z.boolean() }).strict(),
    z.object({ all: z.array(matcherSchema).min(1) }).strict(),
    z.object({ any: z.array(matcherSchema).min(1) }).strict(),
    z.object({ not: matcherSchema }).strict(),
  ]),
) as z.ZodType<Matcher>;
void stringMatch;

export const targetSchema = z
  .object({
    backend: z.string(),
    /** Rewrite the client's model to this one on this target. */
    model: z.string().optional(),
    /** Allowed to continue an interrupted stream from an assistant prefill (failure handling). */
    acceptsPrefill: z.boolean().default(false),
  })
  .strict();

export const routeSchema = z
  .object({
    kind: z.enum(['stateless', 'stateful']),
    backend: z.string().optional(),
    model: z.string().optional(),
    /** Weighted split across targets instead of a single backend. */
    split: z.array(targetSchema.extend({ weight: z.number().positive() })).min(1).optional(),
    /** Tried in order when the primary fails (issue #6). */
    fallbacks: z.array(targetSchema).default([]),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (!r.backend === !r.split) ctx.addIssue({ code: 'custom', path: ['backend'], message: 'a route needs exactly one of "backend" or "split"' });
  });

export const ruleSchema = z.object({ name: z.string().min(1), when: matcherSchema, route: z.string() }).strict();

export const routingSchema = {
  routes: z.record(z.string(), routeSchema).optional(),
  rules: z.array(ruleSchema).default([]),
  default: z.string().optional(),
};

export type RouteConfig = z.infer<typeof routeSchema>;
export type RuleConfig = z.infer<typeof ruleSchema>;
