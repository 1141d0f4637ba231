// Human-readable text for Router.explain: used by `stateroute explain` and handy in logs.
import type { Explanation, Router } from './compile.js';
import type { RequestFacts } from './facts.js';
import { SECRET_HEADERS } from './matchers.js';

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
    const shares = route.split.map((t) => `${t.backend}${withModel(t.model ?? route.model)} ${formatShare(t.weight / total)}`);
    lines.push(`split: ${shares.join(', ')}; the backend above is one random pick`);
  }
  if (d.fallbacks.length) lines.push(`fallbacks: ${d.fallbacks.map((t) => t.backend + withModel(t.model)).join(', ')}`);
  return lines.join('\n');
}

const withModel = (model: string | undefined) => (model ? ` (${model})` : '');
const formatShare = (share: number) => `${Math.round(share * 1000) / 10}%`;

/** The routes and rules in effect (the config's or the built-in defaults), one per line. */
export function formatRules(router: Router): string {
  const lines = [router.builtIn ? 'routes (built-in):' : 'routes:'];
  for (const [name, r] of Object.entries(router.routes)) {
    const target = r.split
      ? `split ${r.split.map((t) => `${t.backend}${withModel(t.model ?? r.model)} ×${t.weight}`).join(', ')}`
      : `backend ${r.backend}${withModel(r.model)}`;
    const fallbacks = r.fallbacks.length ? `, fallbacks ${r.fallbacks.map((t) => t.backend).join(', ')}` : '';
    lines.push(`  ${name}: ${r.kind}, ${target}${fallbacks}`);
  }
  lines.push(router.builtIn ? 'rules (built-in):' : 'rules:');
  router.rules.forEach((rule, i) => lines.push(`  ${i + 1}. ${rule.name}: when ${JSON.stringify(rule.when, redactSecretHeaders)} → ${rule.route}`));
  lines.push(`default: ${router.defaultRoute}`);
  for (const note of router.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}

/** JSON.stringify replacer: a header matcher on a credential header shows no value. */
function redactSecretHeaders(this: unknown, key: string, value: unknown): unknown {
  if ((key === 'equals' || key === 'regex') && typeof this === 'object' && this !== null) {
    const name = (this as { name?: unknown }).name;
    if (typeof name === 'string' && SECRET_HEADERS.has(name.toLowerCase())) return '[REDACTED]';
  }
  return value;
}
