// The stateful backend: AWS Bedrock Converse / ConverseStream.
// Steps, one file each: request.ts (+ messages.ts, history.ts) → body.ts, client.ts → response.ts | stream.ts, error.ts.
import { ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { streamResult, type Backend, type BackendFactory, type CallContext, type ChatCall, type ChatResult, type StreamChunk } from '../types.js';
import { createBedrockClient, withPreparedBody } from './client.js';
import { bedrockConfigSchema, type BedrockConfig } from './config.js';
import { mapBedrockError } from './error.js';
import { HistoryCache } from './history.js';
import { resolveModel } from './request.js';
import { fromConverseResponse } from './response.js';
import { translateStream } from './stream.js';

export const bedrockBackend: BackendFactory<typeof bedrockConfigSchema> = {
  type: 'bedrock',
  kind: 'stateful',
  configSchema: bedrockConfigSchema,
  create({ name, config, connectMs }) {
    return createBedrockBackend(name, config, connectMs);
  },
};

function createBedrockBackend(name: string, config: BedrockConfig, connectMs: number): Backend {
  const client = createBedrockClient(config, connectMs);
  const history = new HistoryCache(config.historyCacheBytes);
  const modelNames = Object.keys(config.models);

  async function chat(call: ChatCall, ctx: CallContext): Promise<ChatResult> {
    const model = resolveModel(config, call.model);
    const modelId = model.id;
    const request = history.request({ body: call.body, modelId, historyLength: call.historyLength, promptCache: model.promptCache }, call.history);
    const input = withPreparedBody(request.input, request.body);
    const mapError = (err: unknown) => mapBedrockError(err, { signal: ctx.signal, logger: ctx.logger });
    const mapStreamError = (err: unknown) => mapBedrockError(err, { signal: ctx.signal, logger: ctx.logger, midStream: true });
    const headers: Record<string, string> = {};

    if (!call.stream) {
      let output;
      try {
        output = await client.send(new ConverseCommand(input), { abortSignal: ctx.signal });
      } catch (err) {
        throw mapError(err);
      }
      if (output.$metadata.requestId) headers['x-amzn-requestid'] = output.$metadata.requestId;
      const { body, usage, model: answered } = fromConverseResponse(output, { model: modelId });
      return { type: 'json', status: 200, headers, model: answered, body: body as unknown as Record<string, unknown>, usage };
    }

    // A stream the consumer leaves early (breaks out, or it failed) must give its connection back:
    // only an abort makes the SDK drop an unread response, so the stream call gets its own
    // controller, which follows ctx.signal and also fires when the chunks end unfinished.
    const upstream = new AbortController();
    const follow = () => upstream.abort(ctx.signal.reason);
    if (ctx.signal.aborted) follow();
    else ctx.signal.addEventListener('abort', follow, { once: true });
    const release = (completed: boolean) => {
      ctx.signal.removeEventListener('abort', follow);
      if (!completed) upstream.abort();
    };

    let output;
    try {
      output = await client.send(new ConverseStreamCommand(input), { abortSignal: upstream.signal });
      if (!output.stream) throw new Error('ConverseStream answered without a stream');
    } catch (err) {
      release(false);
      throw mapError(err);
    }
    if (output.$metadata.requestId) headers['x-amzn-requestid'] = output.$metadata.requestId;
    const translated = translateStream(output.stream, { model: modelId, clientWantsStreamUsage: call.clientWantsStreamUsage, mapError: mapStreamError, signal: ctx.signal });
    // The model is read at the end of the stream (metering), when a prompt router has named its pick.
    return streamResult({ status: 200, headers, model: translated.model, chunks: releasing(translated.chunks, release), usage: translated.usage });
  }

  return {
    name,
    kind: 'stateful',
    provider: 'aws.bedrock',
    models: () => [...modelNames],
    chat,
    async close() {
      client.destroy();
    },
  };
}

/** Yields `chunks`, then calls `release(completed)` however the iteration ends. */
async function* releasing(chunks: AsyncGenerator<StreamChunk, void, undefined>, release: (completed: boolean) => void): AsyncGenerator<StreamChunk, void, undefined> {
  let completed = false;
  try {
    yield* chunks;
    completed = true;
  } finally {
    release(completed);
  }
}
