// A whole gateway on loopback in front of the simulators, configured from YAML like a user would.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/logger.js';
import { startAzureSimulator, type AzureSimulator } from '../../src/simulators/azure/index.js';
import { startBedrockSimulator, type BedrockSimulator } from '../../src/simulators/bedrock/index.js';

export const KEY = 'sk-stack-test-0123456789';
export const OTHER = 'sk-stack-other-0123456789';
export const AZURE_KEY = 'azure-sim-key';
export const AWS = { accessKeyId: 'AKIDSTACKTEST', secretAccessKey: 'stack-test-secret' };
export const SONNET = 'anthropic.claude-sonnet-4-20250514-v1:0';

export interface Stack {
  gateway: Gateway;
  gateways: Gateway[];
  /** The config text and file (when `withConfigFile`), for reload tests. */
  yaml: string;
  configFile?: string;
  azure: AzureSimulator;
  bedrock: BedrockSimulator;
  url: string;
  close(): Promise<void>;
}

export interface StackOptions {
  extraYaml?: string;
  ledgerDir?: string;
  /** The sessions section (default: memory store). */
  sessionsYaml?: string;
  /** Gateways sharing one config, like replicas behind a load balancer (default 1). */
  replicas?: number;
  /** Pause between the Bedrock simulator's stream frames (slow streams for disconnect tests). */
  bedrockStreamDelayMs?: number;
  /** Where the gateways log (default: silent). */
  logger?: import('pino').Logger;
  /** Write the config to a file and start from it, so reloads work. */
  withConfigFile?: boolean;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const bedrock = await startBedrockSimulator({ region: 'us-east-1', credentials: AWS, streamEventDelayMs: options.bedrockStreamDelayMs ?? 0 });
  const azure = await startAzureSimulator({
    apiKey: AZURE_KEY,
    deployments: { 'gpt-4o-prod': 'gpt-4o-2024-08-06', 'mini-prod': 'gpt-4o-mini-2024-07-18', 'embed-small': 'text-embedding-3-small' },
  });
  const yaml = `
auth:
  keys:
    - { name: a, tenant: acme, key: ${KEY} }
    - { name: b, tenant: globex, key: ${OTHER} }
backends:
  azure:
    type: azure-openai
    endpoint: ${azure.url}
    apiKey: ${AZURE_KEY}
    apiVersion: "2024-10-21"
    deployments: { gpt-4o: gpt-4o-prod, gpt-4o-mini: mini-prod, text-embedding-3-small: embed-small, ghost: no-such-deployment }
  bedrock:
    type: bedrock
    region: us-east-1
    endpoint: ${bedrock.url}
    credentials: { accessKeyId: ${AWS.accessKeyId}, secretAccessKey: ${AWS.secretAccessKey} }
    models: { gpt-4o: "${SONNET}", claude-sonnet-4: "${SONNET}" }
${options.sessionsYaml ?? ''}
metering:
  equivalents: { gpt-4o: "${SONNET}" }
  ledger: ${options.ledgerDir ? `{ type: jsonl, dir: "${options.ledgerDir}" }` : '{ type: none }'}
${options.extraYaml ?? ''}`;
  let configFile: string | undefined;
  if (options.withConfigFile) {
    configFile = join(mkdtempSync(join(tmpdir(), 'sr-stack-')), 'stateroute.yaml');
    writeFileSync(configFile, yaml);
  }
  const config = parseConfig(yaml, configFile ?? 'stack.yaml', {});
  const gateways: Gateway[] = [];
  for (let i = 0; i < (options.replicas ?? 1); i++) gateways.push(await startGateway({ config, configFile, env: {}, port: 0, logger: options.logger ?? createLogger({ level: 'silent' }) }));
  const gateway = gateways[0]!;
  return {
    gateway,
    gateways,
    yaml,
    configFile,
    azure,
    bedrock,
    url: gateway.url,
    async close() {
      await Promise.all(gateways.map((g) => g.stop(0)));
      await Promise.all([azure.close(), bedrock.close()]);
    },
  };
}
