// Turns a backend's chunk stream into the SSE response the OpenAI SDKs read: `data: <chunk>` events
// and `data: [DONE]`. A failure after the first byte becomes an SSE error event (openai-node raises
// it as an APIError), never a stream that just stops and looks complete.
// https://platform.openai.com/docs/api-reference/chat-streaming
import type { Socket } from 'node:net';
import { batchesOf, type StreamChunk, type StreamResult } from '../backends/types.js';
import { toGatewayError, type GatewayError } from '../errors.js';

const DONE = 'data: [DONE]\n\n';

export const SSE_HEADERS: Record<string, string> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

export interface StreamHooks {
  /** Each batch of chunks as it passes (counting, session accumulation); keep it cheap. */
  onBatch?(batch: readonly StreamChunk[]): void;
  /** Runs after the last chunk and before `[DONE]`; a throw turns the end into an error event. */
  beforeDone?(): Promise<void>;
  /** Exactly once: 'ok', the error the client was sent, or 'aborted' when the client went away. */
  onEnd(outcome: { ok: true } | { ok: false; error: GatewayError } | { ok: false; aborted: true }): void;
  /** Time spent waiting for the upstream between chunks. */
  onWait?(ms: number): void;
  onFirstChunk?(): void;
}

/** The SSE body; the caller sends it with `c.body()` so headers set on the context (request id,
 * routing decision) go out too. */
export function sseBody(result: StreamResult, hooks: StreamHooks, abort: () => void): ReadableStream<Uint8Array> {
  const iterator = batchesOf(result)[Symbol.asyncIterator]();
  let ended = false;
  let first = true;
  const end = (outcome: Parameters<StreamHooks['onEnd']>[0]) => {
    if (ended) return;
    ended = true;
    hooks.onEnd(outcome);
  };

  // One enqueue per batch: the chunks the upstream delivered together (one socket read holds many
  // events) go out as one socket write.
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const t = performance.now();
          const next = await iterator.next();
          hooks.onWait?.(performance.now() - t);
          if (next.done) {
            await hooks.beforeDone?.();
            controller.enqueue(Buffer.from(DONE));
            controller.close();
            end({ ok: true });
            return;
          }
          if (first) {
            first = false;
            hooks.onFirstChunk?.();
          }
          hooks.onBatch?.(next.value);
          controller.enqueue(sseBytes(next.value));
        } catch (err) {
          if (ended) return;
          const error = toGatewayError(err);
          controller.enqueue(Buffer.from(`data: ${JSON.stringify(error.toJSON())}\n\n`));
          controller.close();
          end({ ok: false, error });
        }
      },
      async cancel() {
        // The client went away: stop the upstream at once; tokens produced so far are still metered.
        abort();
        end({ ok: false, aborted: true });
        await iterator.return?.().catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}

/** A batch as SSE bytes. A chunk that has its upstream bytes goes out as them, and a run of such
 * chunks that lay side by side upstream as one view of those bytes, copied nowhere (a batch from one
 * read is usually one run); any other chunk is encoded as `data: <json>\n\n`. */
export function sseBytes(batch: readonly StreamChunk[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let text = '';
  let run: Uint8Array | undefined;
  let start = 0;
  let end = 0;
  for (const chunk of batch) {
    const wire = chunk.wire;
    if (wire !== undefined && wire === run && chunk.wireStart === end) {
      end = chunk.wireEnd!;
      continue;
    }
    if (run !== undefined) parts.push(run.subarray(start, end));
    run = wire;
    if (wire === undefined) {
      text += `data: ${chunk.json}\n\n`;
      continue;
    }
    if (text !== '') parts.push(Buffer.from(text));
    text = '';
    start = chunk.wireStart!;
    end = chunk.wireEnd!;
  }
  if (run !== undefined) parts.push(run.subarray(start, end));
  else if (text !== '') parts.push(Buffer.from(text));
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** Lets the response head go out with the first body bytes, in one socket write: the node adapter
 * flushes the head of a streamed body on its own, a write (and for the client a packet) of its own.
 * The socket is corked until the next tick, by when a body that is already there has been written
 * (Node's http corks each response write the same way); a body still on its way gets the head at
 * that tick, as before. Without a Node socket (tests calling `app.request`) it does nothing. */
export function coalesceHead(env: unknown): void {
  const socket = (env as { outgoing?: { socket?: Socket | null } } | undefined)?.outgoing?.socket;
  if (!socket || typeof socket.cork !== 'function' || socket.writableCorked) return;
  socket.cork();
  process.nextTick(() => socket.uncork());
}
