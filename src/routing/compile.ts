// Compiles the routing config once, at load, into a Router: ordered rules as closures, one frozen
// decision per (rule, target) so `decide` allocates nothing. Pure: no I/O, no clock; the only
// randomness (a weighted split) comes from the `random` argument.
import type { BackendKind } from '../backends/types.js';
import type { RouteConfig } from '../config/routing.js';
import type { Config } from '../config/schema.js';
import { effectiveRouting, type EffectiveRule } from './defaults.js';
import type { RequestFacts } from './facts.js';
import { compileMatcher, type CompiledMatcher } from './matchers.js';

export interface Target {
  backend: string;
  /** Model to send upstream instead of the client's; undefined keeps the client's. */
  model?: string;
}

export interface FallbackTarget extends Target {
  acceptsPrefill: boolean;
}

export interface RouteDecision {
  route: string;
  /** The matching rule's name, or 'default'. */
  rule: string;
  kind: BackendKind;
  target: Target;
  fallbacks: readonly FallbackTarget[];
}

export interface ExplainStep {
  /** Rule name, or 'default' for the final step when no rule matched. */
  rule: string;
  route: string;
  matched: boolean;
  /** Why it matched or why not, down to the failing leaf matcher. */
  reason: string;
}

export interface Explanation {
  /** Every rule up to and including the one that matched (then 'default' if none did). */
  steps: ExplainStep[];
  decision: RouteDecision;
  /** How the routing was derived (built-in defaults, missing backend kinds). */
  notes: readonly string[];
}

export interface Router {
  /** The rules in effect (the config's, or the built-in defaults), for explain and logs. */
  readonly rules: readonly EffectiveRule[];
  readonly routes: Readonly<Record<string, RouteConfig>>;
  readonly defaultRoute: string;
  readonly builtIn: boolean;
  readonly notes: readonly string[];
  /** The session settings of the same config: build the facts with these, so a reload that changes
   * the session header or body field takes effect together with the rules. */
  readonly sessions: { readonly header: string; readonly bodyField?: string | undefined };
  decide(facts: RequestFacts, random?: () => number): RouteDecision;
  explain(facts: RequestFacts, random?: () => number): Explanation;
}

export const DEFAULT_RULE = 'default';

type RoutePicker = (random: () => number) => RouteDecision;

interface CompiledRule {
  name: string;
  route: string;
  matcher: CompiledMatcher;
  pick: RoutePicker;
}

export function compileRouter(config: Config): Router {
  const routing = effectiveRouting(config);
  const pickerFor = (routeName: string, rule: string): RoutePicker => {
    const route = routing.routes[routeName];
    if (!route) throw new Error(`rule "${rule}" names unknown route "${routeName}"`);
    return compileRoute(routeName, route, rule);
  };
  const rules: CompiledRule[] = routing.rules.map((r) => ({
    name: r.name,
    route: r.route,
    matcher: compileMatcher(r.when),
    pick: pickerFor(r.route, r.name),
  }));
  const fallback = pickerFor(routing.default, DEFAULT_RULE);

  return {
    rules: routing.rules,
    routes: routing.routes,
    defaultRoute: routing.default,
    builtIn: routing.builtIn,
    notes: routing.notes,
    sessions: Object.freeze({ header: config.sessions.header, bodyField: config.sessions.bodyField }),
    decide(facts, random = Math.random) {
      for (let i = 0; i < rules.length; i++) {
        const rule = rules[i]!;
        if (rule.matcher.test(facts)) return rule.pick(random);
      }
      return fallback(random);
    },
    explain(facts, random = Math.random) {
      const steps: ExplainStep[] = [];
      for (const rule of rules) {
        const t = rule.matcher.trace(facts);
        steps.push({ rule: rule.name, route: rule.route, matched: t.ok, reason: t.text });
        if (t.ok) return { steps, decision: rule.pick(random), notes: routing.notes };
      }
      steps.push({ rule: DEFAULT_RULE, route: routing.default, matched: true, reason: rules.length ? 'no rule matched' : 'there are no rules' });
      return { steps, decision: fallback(random), notes: routing.notes };
    },
  };
}

function compileRoute(name: string, route: RouteConfig, rule: string): RoutePicker {
  const fallbacks = Object.freeze(
    route.fallbacks.map((t) => Object.freeze({ backend: t.backend, ...(t.model !== undefined && { model: t.model }), acceptsPrefill: t.acceptsPrefill })),
  );
  const decision = (backend: string, model: string | undefined): RouteDecision =>
    Object.freeze({ route: name, rule, kind: route.kind, target: Object.freeze({ backend, ...(model !== undefined && { model }) }), fallbacks });

  if (!route.split) {
    const only = decision(route.backend!, route.model);
    return () => only;
  }
  const choices = route.split.map((t) => decision(t.backend, t.model ?? route.model));
  const cumulative: number[] = [];
  let total = 0;
  for (const t of route.split) cumulative.push((total += t.weight));
  const last = choices[choices.length - 1]!;
  return (random) => {
    const x = random() * total;
    for (let i = 0; i < cumulative.length; i++) if (x < cumulative[i]!) return choices[i]!;
    return last; // random() returned 1 (or more): out of contract, but never undefined
  };
}
