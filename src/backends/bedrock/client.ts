// One BedrockRuntimeClient per configured backend, with its own keep-alive connection pool.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { BedrockRuntimeClient, type BedrockRuntimeClientConfig } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { BedrockConfig } from './config.js';

const CONNECT_TIMEOUT_MS = 10_000;

export function createBedrockClient(config: BedrockConfig): BedrockRuntimeClient {
  // The SDK's default handler is HTTP/2 with `disableConcurrentStreams: true`, i.e. a new HTTP/2
  // session (TCP + TLS handshake) for every request: costly at gateway rates and it also forces
  // h2c on a plain-http endpoint. HTTP/1.1 with a keep-alive pool reuses warm connections, one
  // request per socket, which is what a long event stream needs anyway.
  const agentOptions = { keepAlive: true, maxSockets: config.maxSockets };
  const requestHandler = new NodeHttpHandler({
    httpAgent: new HttpAgent(agentOptions),
    httpsAgent: new HttpsAgent(agentOptions),
    connectionTimeout: CONNECT_TIMEOUT_MS,
    // An idle socket (no bytes, e.g. a stalled stream) for this long fails the call.
    socketTimeout: config.timeoutMs,
  });
  const clientConfig: BedrockRuntimeClientConfig = {
    region: config.region,
    // Retries, fallbacks and circuit breaking live outside backends.
    maxAttempts: 1,
    requestHandler,
  };
  if (config.endpoint) clientConfig.endpoint = config.endpoint;
  // Omitted credentials → the SDK's default chain (env, profile, SSO, IMDS, …).
  if (config.credentials) clientConfig.credentials = config.credentials;
  return new BedrockRuntimeClient(clientConfig);
}
