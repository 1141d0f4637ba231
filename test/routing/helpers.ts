import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { compileRouter, type Router } from '../../src/routing/compile.js';
import { requestFacts, type RequestFacts } from '../../src/routing/facts.js';

export const BACKENDS = `auth: { mode: none }
backends:
  azure: { type: azure-openai, endpoint: "https://a.openai.azure.com", apiKey: k, apiVersion: "2024-10-21" }
  azure2: { type: azure-openai, endpoint: "https://b.openai.azure.com", apiKey: k, apiVersion: "2024-10-21" }
  bedrock: { type: bedrock, region: us-east-1 }
  bedrock2: { type: bedrock, region: us-west-2 }
`;

export interface TestRequest {
  method?: string;
  path?: string;
  headers?: Headers | Record<string, string>;
  tenant?: string;
  body?: unknown;
}

export const config = (yaml: string): Config => parseConfig(yaml, 'test.yaml', {});

export function facts(cfg: Config, req: TestRequest): RequestFacts {
  return requestFacts({
    method: req.method ?? 'POST',
    path: req.path ?? '/v1/chat/completions',
    headers: req.headers ?? {},
    tenant: req.tenant,
    body: req.body,
    sessions: cfg.sessions,
  });
}

export function routerFor(yaml: string): { cfg: Config; router: Router; decide: (req: TestRequest, random?: () => number) => { route: string; rule: string } } {
  const cfg = config(yaml);
  const router = compileRouter(cfg);
  return {
    cfg,
    router,
    decide(req, random) {
      const d = router.decide(facts(cfg, req), random);
      return { route: d.route, rule: d.rule };
    },
  };
}

/** A config with one rule "r" → route "hit", default "miss": isolates one matcher. */
export const oneRule = (when: string, extra = '') => `${BACKENDS}${extra}
routes:
  hit: { kind: stateless, backend: azure }
  miss: { kind: stateless, backend: azure2 }
rules:
  - name: r
    when: ${when}
    route: hit
default: miss
`;
