// Shared set-up for the simulator tests: a simulator on an ephemeral port and real SDK clients.
import { BedrockRuntimeClient, type BedrockRuntimeClientConfig } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startBedrockSimulator, type BedrockSimulator, type BedrockSimulatorOptions } from '../../../src/simulators/bedrock/index.js';

export const REGION = 'us-east-1';
export const CREDENTIALS = { accessKeyId: 'AKIDSIMULATOR0000001', secretAccessKey: 'sim-secret-key-0000000000000000000000000' };
export const SONNET = 'anthropic.claude-sonnet-4-20250514-v1:0';
export const HAIKU = 'anthropic.claude-haiku-4-5-20251001-v1:0';

export const startSim = (options: Partial<BedrockSimulatorOptions> = {}): Promise<BedrockSimulator> =>
  startBedrockSimulator({ region: REGION, credentials: CREDENTIALS, models: [SONNET, HAIKU], ...options });

export type Transport = 'http2' | 'http1';

/** A real SDK client; `http2` keeps the SDK's default handler, `http1` passes a NodeHttpHandler as the gateway does. */
export function client(sim: BedrockSimulator, transport: Transport, config: Partial<BedrockRuntimeClientConfig> = {}): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    region: REGION,
    endpoint: sim.url,
    credentials: CREDENTIALS,
    maxAttempts: 1,
    ...(transport === 'http1' ? { requestHandler: new NodeHttpHandler() } : {}),
    ...config,
  });
}

export const user = (text: string) => ({ role: 'user' as const, content: [{ text }] });
export const assistant = (text: string) => ({ role: 'assistant' as const, content: [{ text }] });
