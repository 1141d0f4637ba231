// The routing that applies when the config has no `routes` section, written as ordinary rules so
// `explain` prints them like any others.
import { backendKindOf } from '../backends/registry.js';
import type { BackendKind } from '../backends/types.js';
import type { Matcher, RouteConfig } from '../config/routing.js';
import type { Config } from '../config/schema.js';

export interface EffectiveRule {
  name: string;
  when: Matcher;
  route: string;
}

export interface EffectiveRouting {
  /** True when these are the built-in defaults, not the config's own rules. */
  builtIn: boolean;
  routes: Record<string, RouteConfig>;
  rules: EffectiveRule[];
  default: string;
  /** Things an operator should know about how the routing was derived (logged at load, printed by explain). */
  notes: string[];
}

export const BUILT_IN_RULES = {
  /** A session header, `previous_response_id`, `conversation` or the configured body field. */
  session: 'builtin-session',
  /** A stored Responses-API response is state: it can be retrieved and chained later. */
  storedResponse: 'builtin-stored-response',
} as const;

const storedResponse: Matcher = {
  all: [{ method: 'POST' }, { path: '/v1/responses' }, { not: { body: { field: 'store', equals: false } } }],
};

export function effectiveRouting(config: Config): EffectiveRouting {
  if (config.routes) {
    return { builtIn: false, routes: config.routes, rules: config.rules, default: config.default!, notes: [] };
  }
  const firstOf = (kind: BackendKind) => Object.entries(config.backends).find(([, b]) => backendKindOf((b as { type: string }).type) === kind)?.[0];
  const stateless = firstOf('stateless');
  const stateful = firstOf('stateful');
  const routes: Record<string, RouteConfig> = {};
  const notes: string[] = [];
  if (stateless) routes.stateless = { kind: 'stateless', backend: stateless, fallbacks: [] };
  if (stateful) routes.stateful = { kind: 'stateful', backend: stateful, fallbacks: [] };
  if (!stateful) notes.push(`no stateful backend is configured: session traffic stays on route "stateless" (backend "${stateless}")`);
  if (!stateless) notes.push(`no stateless backend is configured: all traffic goes to route "stateful" (backend "${stateful}")`);
  const sessionRoute = stateful ? 'stateful' : 'stateless';
  return {
    builtIn: true,
    routes,
    rules: [
      { name: BUILT_IN_RULES.session, when: { hasSession: true }, route: sessionRoute },
      { name: BUILT_IN_RULES.storedResponse, when: storedResponse, route: sessionRoute },
    ],
    default: stateless ? 'stateless' : 'stateful',
    notes,
  };
}
