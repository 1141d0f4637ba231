// Response step, streamed: ConverseStream events → OpenAI `chat.completion.chunk`s, one chunk per
// event as it arrives, with usage collected on the way (nothing parses the stream twice).
import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { GatewayError } from '../../errors.js';
import type { StreamChunk, Usage } from '../types.js';
import { openAIUsage } from '../types.js';
import { completionId, finishReason, toUsage, unixSeconds } from './response.js';

export interface TranslateStreamOptions {
  /** The Bedrock model id that answers, reported in every chunk. */
  model: string;
  clientWantsStreamUsage: boolean;
  /** Turns whatever the event iterator throws into the error to throw (see error.ts). */
  mapError: (err: unknown) => Error;
  /** Once aborted, no further chunk is yielded (events the SDK had already buffered included):
   * the iteration throws the abort reason. */
  signal?: AbortSignal;
}

export interface TranslatedStream {
  chunks: AsyncGenerator<StreamChunk, void, undefined>;
  /** Usage so far; final once `chunks` has ended, failed or been abandoned. */
  usage(): Usage | undefined;
  /** The model that answered: the one called, or, once the metadata event names it, the model a
   * prompt router picked (chunks already sent keep the name they were sent with). */
  model(): string;
}

type Delta = ChatCompletionChunk.Choice['delta'];

/** Exception members of the event union. The SDK throws them while iterating; a recorded or
 * hand-fed stream may carry them as events, so both paths end in `mapError`. */
const EXCEPTION_MEMBERS = [
  'internalServerException',
  'modelStreamErrorException',
  'serviceUnavailableException',
  'throttlingException',
  'validationException',
] as const;

/** What the stream has learnt so far, read by `usage()` and `model()`. */
interface Seen {
  usage: Usage | undefined;
  answered: string;
}

export function translateStream(events: AsyncIterable<ConverseStreamOutput>, options: TranslateStreamOptions): TranslatedStream {
  const seen: Seen = { usage: undefined, answered: options.model };
  return { chunks: run(events, options, seen), usage: () => seen.usage, model: () => seen.answered };
}

/** The chunks of one stream as OpenAI chat.completion.chunk objects, all with one id and time. */
function chunkMaker(model: string): { chunk: (choices: ChatCompletionChunk.Choice[], extra?: Partial<ChatCompletionChunk>) => StreamChunk; deltaChunk: (delta: Delta) => StreamChunk } {
  const id = completionId();
  const created = unixSeconds();
  const chunk = (choices: ChatCompletionChunk.Choice[], extra?: Partial<ChatCompletionChunk>): StreamChunk => {
    const value: ChatCompletionChunk = { id, object: 'chat.completion.chunk', created, model, choices, ...extra };
    return { value: value as unknown as Record<string, unknown>, json: JSON.stringify(value) };
  };
  return { chunk, deltaChunk: (delta) => chunk([{ index: 0, delta, finish_reason: null }]) };
}

/** At module level, not nested in translateStream: a generator function made per call gets a
 * `prototype` of its own and its generators a hidden class of their own, in the old generation, per
 * request (see azure/stream.ts). */
async function* run(events: AsyncIterable<ConverseStreamOutput>, options: TranslateStreamOptions, seen: Seen): AsyncGenerator<StreamChunk, void, undefined> {
  const { chunk, deltaChunk } = chunkMaker(options.model);
  let started = false;
  let stopped = false;
  /** Bedrock contentBlockIndex → OpenAI tool_calls[].index (which counts tool calls only). */
  const toolIndex = new Map<number, number>();
  try {
    for await (const event of events) {
      options.signal?.throwIfAborted();
      if (!started && (event.messageStart || event.contentBlockStart || event.contentBlockDelta || event.messageStop)) {
        started = true;
        // No `content: ''` here: whether text follows is not known yet, and a tool-only answer
        // assembled from the chunks must read `content: null` like its non-stream twin.
        yield deltaChunk({ role: 'assistant' });
      }
      if (event.contentBlockStart?.start?.toolUse) {
        const { toolUseId, name } = event.contentBlockStart.start.toolUse;
        const index = toolIndex.size;
        toolIndex.set(event.contentBlockStart.contentBlockIndex ?? -1, index);
        yield deltaChunk({ tool_calls: [{ index, id: toolUseId ?? '', type: 'function', function: { name: name ?? '', arguments: '' } }] });
      } else if (event.contentBlockDelta?.delta) {
        const { delta } = event.contentBlockDelta;
        if (delta.text !== undefined) {
          if (delta.text !== '') yield deltaChunk({ content: delta.text });
        } else if (delta.toolUse) {
          const block = event.contentBlockDelta.contentBlockIndex ?? -1;
          let index = toolIndex.get(block);
          if (index === undefined) {
            index = toolIndex.size;
            toolIndex.set(block, index);
          }
          yield deltaChunk({ tool_calls: [{ index, function: { arguments: delta.toolUse.input ?? '' } }] });
        }
        // reasoningContent, citations and the rest have no place in a chat.completion.chunk.
      } else if (event.messageStop) {
        stopped = true;
        yield chunk([{ index: 0, delta: {}, finish_reason: finishReason(event.messageStop.stopReason) }]);
      } else if (event.metadata) {
        seen.usage = toUsage(event.metadata.usage);
        seen.answered = event.metadata.trace?.promptRouter?.invokedModelId ?? seen.answered;
        if (seen.usage && options.clientWantsStreamUsage) yield chunk([], { usage: openAIUsage(seen.usage) });
      } else {
        const member = EXCEPTION_MEMBERS.find((m) => event[m] !== undefined);
        if (member) throw exceptionEvent(member, event[member]);
      }
    }
  } catch (err) {
    throw options.mapError(err);
  }
  if (!stopped) {
    throw new GatewayError({ status: 502, type: 'server_error', code: 'upstream_stream_truncated', message: 'The upstream stream ended before the answer was complete.' });
  }
}

function exceptionEvent(member: string, payload: { message?: string | undefined } | undefined): Error {
  const err = new Error(payload?.message ?? member);
  err.name = member[0]?.toUpperCase() + member.slice(1);
  return err;
}
