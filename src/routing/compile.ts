// STUB until the routing branch lands.
import type { Config } from '../config/schema.js';
import { backendKindOf } from '../backends/registry.js';
import type { RequestFacts } from './facts.js';
export interface Target { backend: string; model?: string }
export interface RouteDecision { route: string; rule: string; kind: 'stateless' | 'stateful'; target: Target; fallbacks: Target[] }
export interface Router { decide(facts: RequestFacts, random?: () => number): RouteDecision }
export function compileRouter(config: Config): Router {
  const entries = Object.entries(config.backends);
  const stateful = entries.find(([, b]) => backendKindOf(b.type as string) === 'stateful');
  const stateless = entries.find(([, b]) => backendKindOf(b.type as string) === 'stateless');
  return {
    decide(facts) {
      if (facts.sessionId && stateful) return { route: 'stateful', rule: 'builtin-session', kind: 'stateful', target: { backend: stateful[0] }, fallbacks: [] };
      return { route: 'stateless', rule: 'default', kind: 'stateless', target: { backend: (stateless ?? entries[0]!)[0] }, fallbacks: [] };
    },
  };
}
