// One BedrockRuntimeClient per configured backend, with its own keep-alive connection pool, and
// the Converse body written by body.ts rather than the SDK's serializer.
import { BedrockRuntimeClient, type BedrockRuntimeClientConfig } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ConnectTimedHttpAgent, ConnectTimedHttpsAgent } from './agents.js';
import { converseBody } from './body.js';
import type { BedrockConfig } from './config.js';
import type { PreparedBody } from './history.js';
import type { ConverseInput } from './request.js';

/** `connectMs`: how long a new connection may take, TLS handshake included (agents.ts). */
export function createBedrockClient(config: BedrockConfig, connectMs: number): BedrockRuntimeClient {
  // The SDK's default handler is HTTP/2 with `disableConcurrentStreams: true`, i.e. a new HTTP/2
  // session (TCP + TLS handshake) for every request: costly at gateway rates and it also forces
  // h2c on a plain-http endpoint. HTTP/1.1 with a keep-alive pool reuses warm connections, one
  // request per socket, which is what a long event stream needs anyway.
  const agentOptions = { keepAlive: true, maxSockets: config.maxSockets };
  const requestHandler = new NodeHttpHandler({
    httpAgent: new ConnectTimedHttpAgent(agentOptions, connectMs),
    httpsAgent: new ConnectTimedHttpsAgent(agentOptions, connectMs),
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
  const client = new BedrockRuntimeClient(clientConfig);
  useNativeConverseBody(client);
  return client;
}

const CONVERSE_COMMANDS = new Set(['ConverseCommand', 'ConverseStreamCommand']);

/** A body already written for an input (history.ts). A symbol-keyed own property, so it survives
 * a shallow copy of the input. */
const PREPARED_BODY = Symbol('stateroute.preparedBody');
type WithPreparedBody = ConverseInput & { [PREPARED_BODY]?: PreparedBody };

/** Sends `body` (and its SHA-256) for `input` instead of writing it from `input`: the input may then
 * lack messages the body has (those of a kept history). */
export function withPreparedBody<T extends ConverseInput>(input: T, body: PreparedBody | undefined): T {
  if (body) (input as WithPreparedBody)[PREPARED_BODY] = body;
  return input;
}

/** Converse and ConverseStream bodies are written with JSON.stringify (body.ts), or were already
 * (withPreparedBody): the SDK's serializer gets the input without its body members (it still places
 * `modelId` in the path and sets the content type), and the body is put on the request before the
 * content length is taken and the request signed. Every other step (endpoint, credentials, SigV4,
 * sending, parsing the answer or the event stream, errors) is the SDK's. `command.input` stays the
 * input given (without a kept history's messages when it carries a prepared body). */
export function useNativeConverseBody(client: BedrockRuntimeClient): void {
  const bodies = new WeakMap<object, { body: string | Buffer; sha256?: string }>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!CONVERSE_COMMANDS.has(context.commandName ?? '')) return next(args);
      const input = args.input as ConverseInput;
      bodies.set(context, (input as WithPreparedBody)[PREPARED_BODY] ?? { body: converseBody(input) });
      return next({ ...args, input: { modelId: input.modelId } });
    },
    { step: 'initialize', priority: 'high', name: 'stateroute:converseBodyInput' },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const body = bodies.get(context);
      const request = args.request as { body?: unknown; headers?: Record<string, string> } | undefined;
      if (body !== undefined && request?.headers) {
        request.body = body.body;
        delete request.headers['content-length'];
        // SigV4 takes a payload hash already there instead of hashing the body again.
        if (body.sha256 !== undefined) request.headers['x-amz-content-sha256'] = body.sha256;
      }
      return next(args);
    },
    // Build: after the serializer, before the content length (normal priority) and signing (finalize).
    { step: 'build', priority: 'high', name: 'stateroute:converseBody' },
  );
}
