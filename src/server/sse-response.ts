// Turns a backend's chunk stream into the SSE response the OpenAI SDKs read: `data: <chunk>` events
// and `data: [DONE]`. A failure after the first byte becomes an SSE error event (openai-node raises
// it as an APIError), never a stream that just stops and looks complete.
// https://platform.openai.com/docs/api-reference/chat-streaming
import type { Socket } from 'node:net';
import { batchesOf, isLastBatch, type StreamChunk, type StreamResult } from '../backends/types.js';
import { toGatewayError, type GatewayError } from '../errors.js';

const DONE = 'data: [DONE]\n\n';
/** Encoded once: every stream ends with it, and nothing writes into a chunk once it is sent. */
const DONE_BYTES = Buffer.from(DONE);

const errorEvent = (error: GatewayError): string => `data: ${JSON.stringify(error.toJSON())}\n\n`;

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
 * routing decision) go out too. Typed as the ReadableStream it stands in for (see SseSource). */
export function sseBody(result: StreamResult, hooks: StreamHooks, abort: () => void): ReadableStream<Uint8Array> {
  return new SseSource(batchesOf(result)[Symbol.asyncIterator](), hooks, abort) as unknown as ReadableStream<Uint8Array>;
}

/** The SSE body of a stream taken whole (ResilientStream.whole: the upstream's end had come by the
 * time the gateway answers): its chunks and then `[DONE]`, or the error event the end's hook made of
 * it, in one buffer, which the server sends with a Content-Length. The hooks run as they do for a
 * streamed body whose first read is its last. One write of a known length instead of a chunked body
 * read through the response writer (three reads, the chunk framing, its end) spares a complete
 * answer that machinery; a stream still arriving goes out as it comes (sseBody). */
export function sseWhole(batch: readonly StreamChunk[], hooks: StreamHooks): Uint8Array | Promise<Uint8Array> {
  if (batch.length > 0) {
    hooks.onFirstChunk?.();
    hooks.onBatch?.(batch);
  }
  const tail = endOfStream(hooks.beforeDone, hooks.onEnd);
  return tail instanceof Uint8Array ? sseBytesThenEnd(batch, tail) : tail.then((end) => sseBytesThenEnd(batch, end));
}

/** What follows a stream's last chunk: `[DONE]`, or the error event if the end's hook fails; `end`
 * is told which. Without a hook (every stateless stream) it is the bytes themselves, which the
 * caller takes without an await: even an await of a value costs a promise and a microtask (85 → 81
 * promises a streamed request, counted with V8's promise hooks). */
function endOfStream(beforeDone: StreamHooks['beforeDone'], end: StreamHooks['onEnd']): Uint8Array | Promise<Uint8Array> {
  if (!beforeDone) {
    end({ ok: true });
    return DONE_BYTES;
  }
  return beforeDone().then(
    () => {
      end({ ok: true });
      return DONE_BYTES;
    },
    (err: unknown) => {
      const error = toGatewayError(err);
      end({ ok: false, error });
      return Buffer.from(errorEvent(error));
    },
  );
}

type ReadResult = { done: false; value: Uint8Array } | { done: true; value: undefined };
const END: ReadResult = { done: true, value: undefined };

/** The SSE body as a pull source, one batch per read: the chunks the upstream delivered together
 * (one socket read holds many events) go out as one socket write. It is its own reader with the
 * part of the WHATWG ReadableStream reader that @hono/node-server's response writer uses (`locked`,
 * `getReader()`, `read()`, `cancel()`, `closed`: it takes any body that has `getReader`), and an
 * async iterable, which is how a WHATWG Response takes it anywhere else (`app.request()`, a
 * middleware that copies the response). A real ReadableStream would serve both, but on Node 20 one
 * costs ~10 µs to build (it is made transferable) plus a promise per pull and per read.
 * https://streams.spec.whatwg.org/#default-reader-class */
class SseSource {
  locked = false;
  private ended = false;
  private first = true;
  /** No more reads: the stream closed (after [DONE] or the error event) or was cancelled. */
  private finished = false;
  private closedPromise: Promise<void> | undefined;
  /** What the next read sends after a last batch: `[DONE]` or the error event. */
  private tail: Uint8Array | undefined = undefined;
  private resolveClosed: (() => void) | undefined;

  constructor(
    private readonly iterator: AsyncIterator<StreamChunk[]>,
    private readonly hooks: StreamHooks,
    private readonly abort: () => void,
  ) {}

  getReader(): this {
    if (this.locked) throw new TypeError('The SSE body is already being read.');
    this.locked = true;
    return this;
  }

  releaseLock(): void {
    this.locked = false;
  }

  get closed(): Promise<void> {
    if (this.finished) return Promise.resolve();
    return (this.closedPromise ??= new Promise((resolve) => (this.resolveClosed = resolve)));
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: () => this.read(),
      return: async () => {
        await this.cancel();
        return END;
      },
    };
  }

  async read(): Promise<ReadResult> {
    if (this.finished) return END;
    if (this.tail !== undefined) {
      const tail = this.tail;
      this.tail = undefined;
      return { done: false, value: tail };
    }
    // Ended: [DONE] or the error event went out with the read before this one.
    if (this.ended) return this.close();
    try {
      const t = performance.now();
      const next = await this.iterator.next();
      this.hooks.onWait?.(performance.now() - t);
      if (next.done) {
        const end = this.finish();
        return { done: false, value: end instanceof Uint8Array ? end : await end };
      }
      if (this.first) {
        this.first = false;
        this.hooks.onFirstChunk?.();
      }
      this.hooks.onBatch?.(next.value);
      // The stream's last batch (the upstream's end came in the same read): end here, and `[DONE]`
      // is the next read's, instead of a read through every layer for an end that cannot differ.
      // Not copied onto the batch in one buffer: that made a fresh ~6 KB ArrayBuffer per stream (the
      // batch is otherwise a view of the upstream's read), and with it the equal-load streamed p99
      // went 12–15 → 17–53 ms (alternating with the build before; the cause was not traced). Both
      // writes fall in one tick, so node's http sends them in one socket write anyway (strace).
      // When the read holds the end right after the batch (endInPlace), both go as one view of it.
      const bytes = sseBytes(next.value);
      if (isLastBatch(next.value)) {
        const finished = this.finish();
        const end = finished instanceof Uint8Array ? finished : await finished;
        const whole = endInPlace(bytes, next.value, end);
        if (whole !== undefined) return { done: false, value: whole };
        this.tail = end;
      }
      return { done: false, value: bytes };
    } catch (err) {
      // Cancelled while waiting: the client is gone and its end was reported.
      if (this.ended) return this.close();
      const error = toGatewayError(err);
      this.end({ ok: false, error });
      return { done: false, value: Buffer.from(errorEvent(error)) };
    }
  }

  /** Ends the stream after its last chunk (endOfStream). */
  private finish(): Uint8Array | Promise<Uint8Array> {
    return endOfStream(this.hooks.beforeDone, (outcome) => this.end(outcome));
  }

  /** The client went away: stop the upstream at once; tokens produced so far are still metered. */
  async cancel(): Promise<void> {
    if (this.finished) return;
    this.close();
    if (!this.ended) {
      this.abort();
      this.end({ ok: false, aborted: true });
    }
    await this.iterator.return?.().catch(() => {});
  }

  private end(outcome: Parameters<StreamHooks['onEnd']>[0]): void {
    if (this.ended) return;
    this.ended = true;
    this.hooks.onEnd(outcome);
  }

  private close(): ReadResult {
    this.finished = true;
    this.resolveClosed?.();
    return END;
  }
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

/** A stream's last batch as SSE bytes followed by its end (`[DONE]` or the error event): in place
 * when the upstream's read holds them so, else copied into one new buffer. */
export function sseBytesThenEnd(batch: readonly StreamChunk[], end: Uint8Array): Uint8Array {
  const body = sseBytes(batch);
  return endInPlace(body, batch, end) ?? Buffer.concat([body, end]);
}

/** `body` (sseBytes of `batch`) and then `end` as one view of the upstream's read, when `body` is a
 * view of that read ending where the batch's last chunk ends there (sseBytes made it one run of one
 * read: a copy could not lie inside the read's bytes) and `end`'s bytes follow it in the read (the
 * Azure translator moves the upstream's `[DONE]` next to the last chunk it passes on, stream.ts
 * closeUp); else undefined. Only bytes are compared, within the chunk the upstream delivered: whatever
 * put them there, the client gets what it would have. Why: a buffer over 4 KB is not taken from
 * Node's pool but allocated on its own, and a new one of the ~6 KB answer took ~4.5–5.4 µs on the
 * fourteenth machine (a loop of Buffer.concat against 0.17 µs for copying the bytes alone; README,
 * Performance). */
function endInPlace(body: Uint8Array, batch: readonly StreamChunk[], end: Uint8Array): Uint8Array | undefined {
  const last = batch[batch.length - 1];
  const wire = last?.wire;
  if (wire === undefined || body.buffer !== wire.buffer) return undefined;
  const at = last!.wireEnd!;
  if (body.byteOffset + body.byteLength !== wire.byteOffset + at || at + end.length > wire.length) return undefined;
  for (let i = 0; i < end.length; i++) if (wire[at + i] !== end[i]) return undefined;
  return wire.subarray(at - body.byteLength, at + end.length);
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
