// Routing: request facts + compiled config → RouteDecision. Pure; see compile.ts.
export { compileRouter, DEFAULT_RULE, type ExplainStep, type Explanation, type FallbackTarget, type RouteDecision, type Router, type Target } from './compile.js';
export { BUILT_IN_RULES, type EffectiveRule } from './defaults.js';
export { describeRequest, formatExplanation, formatRules } from './explain.js';
export { requestFacts, type HeaderReader, type RequestFacts, type RequestFactsInput, type SessionSource } from './facts.js';
