// Stream step: the upstream's raw SSE bytes → StreamChunks, passing each `data:` payload through
// as is (no re-serialising), and a plain event's bytes too, so the server forwards them without
// encoding the text again. Only the chunk carrying usage is parsed; it is found cheaply because
// `"usage":` cannot occur inside a JSON string (a quote in a string is always escaped).
// https://learn.microsoft.com/azure/ai-services/openai/reference#chat-completions (stream, stream_options)
// https://platform.openai.com/docs/api-reference/chat-streaming
import type { Logger } from 'pino';
import { GatewayError } from '../../errors.js';
import { isPollable } from '../../streaming/pollable.js';
import { SSEStreamDecoder, type SSEEvent } from '../../streaming/sse.js';
import { markLastBatch, type StreamChunk, type Usage } from '../types.js';
import { gatewayErrorFromBody } from './error.js';
import { normaliseUsage } from './response.js';

export interface UpstreamStreamOptions {
  /** The response body; its chunks are forwarded by reference, so the source must not reuse them
   * (and the bytes of the events dropped at the end of the last read are written over: closeUp). */
  body: AsyncIterable<Uint8Array>;
  clientWantsUsage: boolean;
  /** The model we asked for; replaced by the first model name a chunk reports. */
  upstreamModel: string;
  /** Whether the call was given up (then a broken body is the abort, not an upstream fault). */
  cancel: { readonly aborted: boolean };
  logger: Logger;
}

export interface UpstreamStream {
  /** The chunks each upstream read completes, as one batch (see StreamResult). */
  batches: AsyncIterable<StreamChunk[]>;
  usage(): Usage | undefined;
  model(): string;
}

const noop = () => {};
// Keys are searched for without their opening quote, which is checked after a match: V8 searches
// for a pattern that starts with a character as frequent in JSON as `"` many times slower (about
// 1 µs per chunk and key).
const USAGE_KEY = 'usage":';
const NULL_USAGE_END = '"usage":null}';
const MODEL_KEY = 'model":"';
const FINISH_KEY = 'finish_reason":"';

/** Whether the bytes before `end` are NULL_USAGE_END's, compared one constant at a time (the test
 * checks they spell it): `endsWith` on the event's text cost ~290 instructions an event (callgrind),
 * a loop over the bytes more. */
export function endsWithNullUsage(b: Uint8Array, end: number): boolean {
  return (
    b[end - 1] === 0x7d /* } */ && b[end - 2] === 0x6c /* l */ && b[end - 3] === 0x6c /* l */ && b[end - 4] === 0x75 /* u */ &&
    b[end - 5] === 0x6e /* n */ && b[end - 6] === 0x3a /* : */ && b[end - 7] === 0x22 /* " */ && b[end - 8] === 0x65 /* e */ &&
    b[end - 9] === 0x67 /* g */ && b[end - 10] === 0x61 /* a */ && b[end - 11] === 0x73 /* s */ && b[end - 12] === 0x75 /* u */ &&
    b[end - 13] === 0x22 /* " */
  );
}

/** Model names as strings of their own: a slice of the decoded read keeps the whole read alive for
 * as long as anything holds the name. Copying it halved what a streamed request promotes to the old
 * generation (12.4 → 6.2 KB, --trace-gc-nvp). The names are few: copied once, then shared. */
const MODEL_NAMES = new Map<string, string>();
function modelName(slice: string): string {
  let name = MODEL_NAMES.get(slice);
  if (name === undefined) {
    name = Buffer.from(slice, 'utf8').toString('utf8');
    if (MODEL_NAMES.size < 256) MODEL_NAMES.set(name, name);
  }
  return name;
}

/** The first index from `from` where `key` (a key's name, closing quote and colon) follows an opening quote; -1 if none. */
function keyAt(data: string, key: string, from = 0): number {
  for (let i = data.indexOf(key, from); i !== -1; i = data.indexOf(key, i + key.length)) if (i > 0 && data.charCodeAt(i - 1) === 0x22) return i;
  return -1;
}

/** The index just past the last `"usage":` when it is followed by a value other than null, else -1.
 * Searched from the end: OpenAI and Azure write `usage` as a chunk's last key, so the search
 * stops after a few characters where a forward one walked the whole chunk. */
function usageValueAt(data: string): number {
  // Every chunk but the last says `"usage":null` as its last key; told apart by its end without a
  // search (lastIndexOf is a runtime call, not a builtin: ~275 instructions per chunk, callgrind).
  if (data.endsWith(NULL_USAGE_END)) return -1;
  let at = data.lastIndexOf(USAGE_KEY);
  while (at > 0 && data.charCodeAt(at - 1) !== 0x22) at = data.lastIndexOf(USAGE_KEY, at - 1);
  if (at <= 0) return -1;
  let i = at + USAGE_KEY.length;
  while (data.charCodeAt(i) === 0x20) i++;
  return data.startsWith('null', i) ? -1 : i;
}

const EMPTY_CHOICES = 'choices":[]';

/** The value that starts at `at` and runs to the closing brace of `data` (the last key's value), parsed; undefined if it is not JSON. */
function lastValue(data: string, at: number): unknown {
  let end = data.length - 1;
  while (end > at && (data.charCodeAt(end) === 0x20 || data.charCodeAt(end) === 0x09)) end--;
  if (data.charCodeAt(end) !== 0x7d /* } */) return undefined;
  try {
    return JSON.parse(data.slice(at, end));
  } catch {
    return undefined;
  }
}

/** What the stream has learnt so far, read by `usage()` and `model()`. */
interface Seen {
  usage: Usage | undefined;
  model: string;
  modelSeen: boolean;
}

export function upstreamStream(options: UpstreamStreamOptions): UpstreamStream {
  const seen: Seen = { usage: undefined, model: options.upstreamModel, modelSeen: false };
  return { batches: batches(options, seen), usage: () => seen.usage, model: () => seen.model };
}

/** At module level, not nested in upstreamStream: a generator function made per call gets a
 * `prototype` object of its own, and each generator it makes a hidden class of its own: three maps
 * per streamed request in the old generation, which kept the request's objects alive through
 * young-generation GCs until the next full one (seen with V8's --log-maps). */
async function* batches(options: UpstreamStreamOptions, seen: Seen): AsyncGenerator<StreamChunk[], void, undefined> {
  const { clientWantsUsage, cancel, logger } = options;
  let done = false;
  // The last chunk with choices: whether the stream finished is asked of it once, at the end, and
  // only when [DONE] did not come. Searching every chunk for the finish key was ~11 k of the ~84 k
  // instructions the translator spent on the benchmark's 24-event stream (callgrind, per function).
  let lastContent: string | undefined;
  // The bytes are read here and their events handled synchronously, and handed on as one batch:
  // one async step per upstream read, not one per event. Like for-await, a stop before the end
  // returns the source.
  const source = options.body[Symbol.asyncIterator]();
  // A source that says what has arrived (raw.ts) is read without an await while it has something.
  const pollable = isPollable(source);
  const decoder = new SSEStreamDecoder({ keepBytes: true });
  let sourceDone = false;
  try {
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = (pollable ? source.poll() : undefined) ?? (await source.next());
      } catch (err) {
        sourceDone = true; // a source that threw is finished; for-await would not return it either
        throw err;
      }
      sourceDone = next.done === true;
      const events = sourceDone ? decoder.end() : decoder.push(next.value);
      const batch: StreamChunk[] = [];
      // An error event still lets the chunks before it through first, as they came before it.
      let failure: GatewayError | undefined;
      for (let e = 0; e < events.length; e++) {
        const event = events[e]!;
        const wire = event.bytes;
        // The common chunk first: a whole plain event (its bytes kept) that ends with a null usage, the
        // last key as OpenAI and Azure write it. It cannot be the end, an error or usage, so it goes on
        // as it came. Its first characters are read in the bytes (after `data: `), not the text:
        // `{"error":` is compared only when the third says it may be one (TurboFan compiles
        // `startsWith` to a loop over the characters, ~100 instructions an event), and a byte read
        // was ~60 instructions an event cheaper than charCodeAt on the event's text (bench/translator.ts).
        const text = event.data;
        if (wire !== undefined && seen.modelSeen && endsWithNullUsage(wire, event.end! - 2) && wire[event.start! + 6] === 0x7b /* { */ && !(wire[event.start! + 8] === 0x65 /* e */ && text.startsWith('{"error":'))) {
          lastContent = text;
          batch.push({ json: text, wire, wireStart: event.start, wireEnd: event.end });
          continue;
        }
        // A payload split over several `data:` lines is joined with "\n"; in valid JSON a raw newline
        // can only be whitespace, so it becomes a space and the chunk fits on one `data:` line again.
        const data = wire === undefined && event.data.includes('\n') ? event.data.replaceAll('\n', ' ') : event.data;
        if (data === '[DONE]') {
          done = true;
          closeUp(batch, event);
          break;
        }
        if (data.charCodeAt(0) !== 0x7b /* { */) {
          logger.debug({ data: data.slice(0, 200) }, 'skipping a malformed upstream stream event');
          continue;
        }
        if (event.unterminated && !isWholeJson(data)) {
          logger.debug({ data: data.slice(0, 200) }, 'skipping the cut-off last event of an upstream stream');
          continue;
        }
        if (event.event === 'error' || data.startsWith('{"error":')) {
          failure = streamErrorEvent(data);
          break;
        }

        if (!seen.modelSeen) {
          const at = keyAt(data, MODEL_KEY);
          if (at !== -1 && data.charCodeAt(at + MODEL_KEY.length) !== 0x22) {
            seen.model = modelName(data.slice(at + MODEL_KEY.length, data.indexOf('"', at + MODEL_KEY.length)));
            seen.modelSeen = true;
          }
        }
        const usageAt = usageValueAt(data);
        if (usageAt === -1 || keyAt(data, FINISH_KEY) !== -1) lastContent = data;
        if (usageAt !== -1) {
          // The usage-only chunk the client did not ask for is dropped: only its usage object is
          // parsed, not the whole chunk (JSON.parse of the chunk was ~11 k of the ~90 k instructions
          // a 24-event stream cost, callgrind). A usage object that does not parse alone (usage not
          // the last key, or cut) falls back to the whole chunk below.
          if (!clientWantsUsage && keyAt(data, EMPTY_CHOICES) !== -1) {
            const usage = lastValue(data, usageAt);
            if (usage !== undefined) {
              seen.usage = normaliseUsage(usage) ?? seen.usage;
              continue;
            }
          }
          let value: Record<string, unknown>;
          try {
            value = JSON.parse(data) as Record<string, unknown>;
          } catch {
            logger.debug({ data: data.slice(0, 200) }, 'skipping a malformed upstream stream event');
            continue;
          }
          seen.usage = normaliseUsage(value.usage) ?? seen.usage;
          const usageOnly = Array.isArray(value.choices) && value.choices.length === 0;
          if (usageOnly && !clientWantsUsage) continue;
          batch.push({ json: data, value, wire: event.bytes, wireStart: event.start, wireEnd: event.end });
          continue;
        }
        batch.push({ json: data, wire: event.bytes, wireStart: event.start, wireEnd: event.end });
      }
      if (done && !sourceDone) {
        // The end came with this read: let go of the upstream now, so the batch can say it is the last.
        sourceDone = true;
        if (pollable) void source.return();
        else await source.return?.()?.catch(noop);
      }
      if (batch.length > 0) yield done ? markLastBatch(batch) : batch;
      if (failure) throw failure;
      if (done || sourceDone) break;
    }
  } catch (err) {
    if (err instanceof GatewayError || cancel.aborted) throw err;
    throw new GatewayError({
      status: 502,
      message: 'The upstream stream broke off before it was complete.',
      code: 'upstream_stream_interrupted',
      cause: err,
    });
  } finally {
    if (!sourceDone) await source.return?.()?.catch(noop);
  }
  if (done) return;
  if (seen.usage && lastContent !== undefined && keyAt(lastContent, FINISH_KEY) !== -1) {
    logger.debug('upstream stream ended without [DONE] after its finish and usage chunks; treating it as complete');
    return;
  }
  throw new GatewayError({
    status: 502,
    message: 'The upstream stream ended before it was complete.',
    code: 'upstream_stream_incomplete',
  });
}

/** `data: [DONE]\n\n`, as a plain event's bytes spell it (sse.ts: one data line, "\n" line ends). */
const DONE_EVENT_BYTES = 14;

/** Moves the upstream's `[DONE]` event down onto the bytes of the events dropped after the batch's
 * last chunk in the same read (the usage chunk the client did not ask for), so that the read holds
 * the answer as the client gets it, `[DONE]` included, in one run: the server then sends a view of
 * the read instead of copying it into a new buffer to add its own `[DONE]` (sse-response.ts,
 * sseBytesThenEnd). The dropped events were decoded already, and no chunk holds their bytes (the
 * batch is the stream's last). */
function closeUp(batch: readonly StreamChunk[], doneEvent: SSEEvent): void {
  const last = batch[batch.length - 1];
  const wire = doneEvent.bytes;
  const { start, end } = doneEvent;
  if (last === undefined || wire === undefined || last.wire !== wire || end! - start! !== DONE_EVENT_BYTES) return;
  if (last.wireEnd! < start!) wire.copyWithin(last.wireEnd!, start!, end!);
}

/** Only for the one unterminated last event of a stream: is it whole or cut off? */
function isWholeJson(data: string): boolean {
  try {
    JSON.parse(data);
    return true;
  } catch {
    return false;
  }
}

function streamErrorEvent(data: string): GatewayError {
  let error: unknown;
  try {
    error = (JSON.parse(data) as { error?: unknown }).error;
  } catch {
    error = undefined;
  }
  const status = Number((error as { status?: unknown } | undefined)?.status);
  return gatewayErrorFromBody({
    status: status >= 400 && status < 600 ? status : 502,
    error,
    fallbackMessage: 'The upstream reported an error mid-stream.',
  });
}
