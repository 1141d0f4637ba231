// The gateway config the benchmark generates: the instant upstream as Azure, the Bedrock simulator
// as Bedrock, warn-level logging, a JSONL ledger (what a default deployment writes), and the
// session store under test.
export const BENCH_KEY = 'sk-bench-0123456789abcdef';
export const BENCH_AWS = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret' };
export const AZURE_KEY = 'bench-azure-key';
export const SONNET = 'anthropic.claude-sonnet-4-20250514-v1:0';
export const API_VERSION = '2024-10-21';
export const DEPLOYMENT = 'gpt-4o-prod';

export interface BenchConfigOptions {
  port: number;
  azureUrl: string;
  bedrockUrl: string;
  ledgerDir: string;
  /** `none` to measure the gateway without its ledger (default jsonl). */
  ledger?: 'jsonl' | 'none';
  /** `memory`, or a Redis URL plus key prefix. */
  store: { type: 'memory' } | { type: 'redis'; url: string; keyPrefix: string };
}

export function benchConfigYaml(o: BenchConfigOptions): string {
  const store =
    o.store.type === 'memory'
      ? '{ type: memory, maxSessions: 100000, maxBytes: 1073741824 }'
      : `{ type: redis, url: "${o.store.url}", keyPrefix: "${o.store.keyPrefix}" }`;
  return `listen: { host: 127.0.0.1, port: ${o.port} }
server: { shutdownGraceMs: 2000 }
logging: { level: warn }
auth:
  keys:
    - { name: bench, tenant: bench, key: ${BENCH_KEY} }
backends:
  azure:
    type: azure-openai
    endpoint: ${o.azureUrl}
    apiKey: ${AZURE_KEY}
    apiVersion: "${API_VERSION}"
    deployments: { gpt-4o: ${DEPLOYMENT} }
  bedrock:
    type: bedrock
    region: us-east-1
    endpoint: ${o.bedrockUrl}
    credentials: { accessKeyId: ${BENCH_AWS.accessKeyId}, secretAccessKey: ${BENCH_AWS.secretAccessKey} }
    models: { gpt-4o: "${SONNET}" }
sessions:
  header: x-session-id
  store: ${store}
metering:
  equivalents: { gpt-4o: "${SONNET}" }
  ledger: ${o.ledger === 'none' ? '{ type: none }' : `{ type: jsonl, dir: "${o.ledgerDir}" }`}
`;
}
