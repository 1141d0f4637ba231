// A whole gateway on loopback in front of the simulators, configured from YAML like a user would.
import { parseConfig } from '../../src/config/load.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/logger.js';
import { startAzureSimulator, type AzureSimulator } from '../../src/simulators/azure/index.js';

export const KEY = 'sk-stack-test-0123456789';
export const OTHER = 'sk-stack-other-0123456789';
export const AZURE_KEY = 'azure-sim-key';

export interface Stack {
  gateway: Gateway;
  azure: AzureSimulator;
  url: string;
  close(): Promise<void>;
}

export async function startStack(options: { extraYaml?: string; ledgerDir?: string } = {}): Promise<Stack> {
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
metering:
  ledger: ${options.ledgerDir ? `{ type: jsonl, dir: "${options.ledgerDir}" }` : '{ type: none }'}
${options.extraYaml ?? ''}`;
  const config = parseConfig(yaml, 'stack.yaml', {});
  const gateway = await startGateway({ config, port: 0, logger: createLogger({ level: 'silent' }) });
  return {
    gateway,
    azure,
    url: gateway.url,
    async close() {
      await gateway.stop(0);
      await azure.close();
    },
  };
}
