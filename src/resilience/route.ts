// From a routing decision to the wrapper's input: the targets in order (the primary, then the
// route's fallbacks, each with the model it sends), the route's policy, and the shared state.
import type { Backend } from '../backends/types.js';
import { defaultResilience, type ResilienceConfig } from '../config/resilience.js';
import type { RouteConfig } from '../config/routing.js';
import { GatewayError } from '../errors.js';
import type { ResilienceTarget } from './attempt.js';
import { resilienceStateFor, type ResilienceState } from './state.js';

/** What the wrapper needs from a RouteDecision (the router's FallbackTarget adds `acceptsPrefill`). */
export interface DecisionTargets {
  route: string;
  target: { backend: string; model?: string };
  fallbacks: readonly { backend: string; model?: string; acceptsPrefill?: boolean }[];
}

export interface RuntimeView {
  config: { routes?: Record<string, unknown> };
  backends: ReadonlyMap<string, Backend>;
}

export interface ResiliencePlan {
  targets: ResilienceTarget[];
  policy: ResilienceConfig;
  state: ResilienceState;
}

let defaults: ResilienceConfig | undefined;

/** The route's `resilience` block, or the documented defaults when it has none. */
export function policyFor(runtime: RuntimeView, route: string): ResilienceConfig {
  const config = runtime.config.routes?.[route] as { resilience?: ResilienceConfig } | undefined;
  return config?.resilience ?? (defaults ??= defaultResilience());
}

/** The connect timeout of each backend's connections, by backend name. Connections are pooled per
 * backend, not per route, so a backend that several routes reach (as primary, split target or
 * fallback) gets the smallest of their `connectMs`; a backend no route names, the default. */
export function connectMsByBackend(config: { backends: Record<string, unknown>; routes?: Record<string, RouteConfig> }): Map<string, number> {
  const fallback = (defaults ??= defaultResilience()).timeouts.connectMs;
  const byBackend = new Map(Object.keys(config.backends).map((name) => [name, Number.POSITIVE_INFINITY]));
  for (const route of Object.values(config.routes ?? {})) {
    const ms = route.resilience?.timeouts.connectMs ?? fallback;
    const reached = [route.backend, ...(route.split ?? []).map((t) => t.backend), ...route.fallbacks.map((t) => t.backend)];
    for (const name of reached) if (name !== undefined && byBackend.has(name)) byBackend.set(name, Math.min(byBackend.get(name)!, ms));
  }
  for (const [name, ms] of byBackend) if (ms === Number.POSITIVE_INFINITY) byBackend.set(name, fallback);
  return byBackend;
}

/** `clientModel` is what a target without a model rewrite sends (the client's model, not the
 * primary's rewrite). */
export function resiliencePlan(runtime: RuntimeView, decision: DecisionTargets, primary: Backend, clientModel: string): ResiliencePlan {
  const targets: ResilienceTarget[] = [{ backend: primary, model: decision.target.model ?? clientModel, acceptsPrefill: false }];
  decision.fallbacks.forEach((fallback, i) => {
    const backend = runtime.backends.get(fallback.backend);
    // Config validation guarantees the backend exists; this guards a programming error, not input.
    if (!backend) throw new GatewayError({ status: 500, message: `Route "${decision.route}" names an unknown fallback backend (#${i}).`, code: 'misconfigured_route' });
    targets.push({ backend, model: fallback.model ?? clientModel, acceptsPrefill: fallback.acceptsPrefill === true });
  });
  return { targets, policy: policyFor(runtime, decision.route), state: resilienceStateFor(runtime.backends) };
}

/** The `x-stateroute-fallback` header value: which target answered, when it was not the primary. */
export const fallbackLabel = (target: ResilienceTarget): string => `${target.backend.name}/${target.model ?? ''}`;
