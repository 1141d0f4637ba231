// Human-readable text for Router.explain: used by `stateroute explain` and handy in logs.
import type { Explanation, Router } from './compile.js';
import type { RequestFacts } from './facts.js';

export function describeRequest(facts: RequestFacts): string {
  const parts = [`${facts.method} ${facts.path}`];
  parts.push(facts.tenant === undefined ? 'no tenant' : `tenant ${JSON.stringify(facts.tenant)}`);
  parts.push(facts.model === undefined ? 'no model' : `model ${JSON.stringify(facts.model)}`);
  parts.push(facts.sessionId === undefined ? 'no session' : `session from ${facts.sessionSource}`);
  if (facts.stream) parts.push('stream');
  if (facts.store !== undefined) parts.push(`store: ${facts.store}`);
  return parts.join(', ');
}

/** One line per evaluated rule, then the decision. No trailing newline. */
export function formatExplanation(router: Router, facts: RequestFacts, explanation: Explanation): string {
  const lines: string[] = [];
  lines.push(`request: ${describeRequest(facts)}`);
  if (router.builtIn) lines.push('routing: built-in defaults (the config has no routes)');
  for (const note of explanation.notes) lines.push(`note: ${note}`);
  explanation.steps.forEach((step, i) => {
    const head = step.rule === 'default' ? `default (route ${step.route})` : `rule ${i + 1} "${step.rule}" (route ${step.route})`;
    lines.push(`${head}: ${step.matched ? 'MATCH' : 'no match'} — ${step.reason}`);
  });
  const d = explanation.decision;
  const route = router.routes[d.route];
  const model = d.target.model === undefined ? 'model unchanged' : `model rewritten to ${JSON.stringify(d.target.model)}`;
  lines.push(`decision: rule ${d.rule} → route ${d.route} (${d.kind}) → backend ${d.target.backend}, ${model}`);
  if (route?.split) {
    const total = route.split.reduce((sum, t) => sum + t.weight, 0);
    const shares = route.split.map((t) => `${t.backend}${t.model ? ` (${t.model})` : ''} ${formatShare(t.weight / total)}`);
    lines.push(`split: ${shares.join(', ')}; the backend above is one random pick`);
  }
  if (d.fallbacks.length) lines.push(`fallbacks: ${d.fallbacks.map((t) => t.backend + (t.model ? ` (${t.model})` : '')).join(', ')}`);
  return lines.join('\n');
}

const formatShare = (share: number) => `${Math.round(share * 1000) / 10}%`;
