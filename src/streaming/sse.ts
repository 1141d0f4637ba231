// Server-sent events: bytes → events, after openai-node's SSEDecoder (src/core/streaming.ts) and
// the WHATWG event-stream interpretation rules
// (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).
import { isAscii } from 'node:buffer';
import { LineDecoder, utf8 } from './lines.js';

const LF = 0x0a;
const CR = 0x0d;

export interface SSEEvent {
  /** The `event:` field, when the stream named one. */
  event?: string;
  /** All `data:` lines of the event joined with "\n". */
  data: string;
  id?: string;
  /** Set on the final event of a stream that ended without the blank line closing it: it may
   * be whole (a server that omits the last blank line) or cut short, so callers that care check it. */
  unterminated?: true;
  /** Where a plain event (`data: <data>\n\n`: one data line, "\n" line ends, whole in one chunk) lay
   * in the chunk it came from: `bytes` from `start` to `end`, so it can be forwarded as those bytes
   * instead of encoded again. Set only when the decoder was asked to keep bytes. */
  bytes?: Uint8Array;
  start?: number;
  end?: number;
}

/** `data: ` at `at` in the bytes. */
const isDataField = (b: Uint8Array, at: number): boolean =>
  b[at] === 0x64 && b[at + 1] === 0x61 && b[at + 2] === 0x74 && b[at + 3] === 0x61 && b[at + 4] === 0x3a && b[at + 5] === 0x20;

/** Turns lines into events; a blank line dispatches the event collected so far. */
export class SSEDecoder {
  /** The `data:` lines so far, joined with "\n" (almost every event has exactly one). */
  #data: string | undefined;
  #event: string | undefined;
  #id: string | undefined;

  /** Feeds one line; returns the event it completes, if any. */
  decode(line: string): SSEEvent | undefined {
    if (line === '') return this.#dispatch();
    // The common line first, without the generic field split.
    if (line.startsWith('data: ')) {
      this.#addData(line.slice(6));
      return undefined;
    }
    if (line.startsWith(':')) return undefined; // comment (keep-alive pings)

    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);

    if (field === 'data') this.#addData(value);
    else if (field === 'event') this.#event = value;
    else if (field === 'id') {
      if (!value.includes('\0')) this.#id = value;
    }
    // `retry` and unknown fields are ignored.
    return undefined;
  }

  /** Nothing of an event is held and no event id was set: the next event is just what its lines say. */
  get idle(): boolean {
    return this.#data === undefined && this.#event === undefined && this.#id === undefined;
  }

  /** The final event of a stream that ended without a blank line. */
  flush(): SSEEvent | undefined {
    return this.#dispatch();
  }

  #addData(value: string): void {
    this.#data = this.#data === undefined ? value : `${this.#data}\n${value}`;
  }

  #dispatch(): SSEEvent | undefined {
    if (this.#data === undefined && this.#event === undefined) return undefined;
    const event: SSEEvent = { data: this.#data ?? '' };
    if (this.#event !== undefined) event.event = this.#event;
    if (this.#id !== undefined) event.id = this.#id;
    this.#data = undefined;
    this.#event = undefined;
    // The last event id persists across events (per spec), so it is not reset here.
    return event;
  }
}

/** Bytes → events without an async step of its own: `push` each chunk, `end` once. For consumers
 * that already loop over the byte stream (one async hop per read, not per event).
 *
 * Almost every event of a chat stream is `data: <json>\n\n`. Those are cut straight out of the
 * chunk's text, with no line list, no field parsing and no event state; with `keepBytes` each also
 * says which bytes of the chunk it came from (`bytes`, `start`, `end`). Anything else (other fields,
 * comments, several data lines, "\r" line ends, an event torn across chunks) takes the general
 * path, line by line, as the WHATWG rules say. The chunks must not be reused by the caller while
 * their events are in use. */
export class SSEStreamDecoder {
  readonly #lines: LineDecoder;
  readonly #events = new SSEDecoder();
  readonly #keepBytes: boolean;

  constructor(options: { maxLineBytes?: number; keepBytes?: boolean } = {}) {
    this.#lines = new LineDecoder(options);
    this.#keepBytes = options.keepBytes ?? false;
  }

  /** The events this chunk completes, in order. */
  push(chunk: Uint8Array): SSEEvent[] {
    const out: SSEEvent[] = [];
    // A lone "\r" ends a line too: a chunk holding one is left to the general path.
    if (chunk.indexOf(CR) !== -1) return this.#general(chunk, out);
    let from = 0;
    if (!(this.#lines.atLineStart && this.#events.idle)) {
      // An event begun in an earlier chunk is finished on the general path, up to its blank line.
      from = this.#endOfHeldEvent(chunk) + 1;
      if (from === 0) return this.#general(chunk, out);
      this.#general(chunk.subarray(0, from), out);
    }
    from = this.#plainEvents(chunk, from, out);
    if (from < chunk.length) this.#general(from === 0 ? chunk : chunk.subarray(from), out);
    return out;
  }

  /** The events left when the byte stream ends; the last is `unterminated` if no blank line closed it. */
  end(): SSEEvent[] {
    const out: SSEEvent[] = [];
    for (const line of this.#lines.flush()) {
      const event = this.#events.decode(line);
      if (event) out.push(event);
    }
    const last = this.#events.flush();
    if (last) out.push({ ...last, unterminated: true });
    return out;
  }

  #general(chunk: Uint8Array, out: SSEEvent[]): SSEEvent[] {
    for (const line of this.#lines.decode(chunk)) {
      const event = this.#events.decode(line);
      if (event) out.push(event);
    }
    return out;
  }

  /** The index of the "\n" that closes the event held from earlier chunks (its blank line), or -1. */
  #endOfHeldEvent(chunk: Uint8Array): number {
    if (chunk[0] === LF && this.#lines.atLineStart) return 0;
    for (let lf = chunk.indexOf(LF); lf !== -1 && lf + 1 < chunk.length; lf = chunk.indexOf(LF, lf + 1)) if (chunk[lf + 1] === LF) return lf + 1;
    return -1;
  }

  /** The bytes as text. ASCII (what JSON writers send unless told otherwise) is checked for and
   * copied as Latin-1: V8's UTF-8 decoder spent ~5.5 k instructions on the benchmark's 6 KB read,
   * simdutf's ASCII check and the copy a fraction of that (callgrind). */
  #text(bytes: Uint8Array): string {
    if (!isAscii(bytes)) return utf8.decode(bytes);
    return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('latin1');
  }

  /** Cuts the plain events off the front of `chunk[from…]` into `out`; returns where they stop. */
  #plainEvents(chunk: Uint8Array, from: number, out: SSEEvent[]): number {
    if (from >= chunk.length) return from;
    const text = this.#text(from === 0 ? chunk : chunk.subarray(from));
    // One byte per character (ASCII, the usual case): offsets in the text are offsets in the bytes.
    // Otherwise each event's end is found in the bytes too (its two "\n" are the same there).
    const oneByte = text.length === chunk.length - from;
    let i = 0;
    let at = from;
    // `at` is where the next event starts in the bytes: its `data: ` is checked there, byte by byte
    // (TurboFan compiles startsWith at an offset to a loop that re-dispatches on the string's
    // representation for every character: ~420 instructions an event, callgrind).
    while (isDataField(chunk, at)) {
      const lf = text.indexOf('\n', i + 6);
      // The event is cut off by the chunk's end, or has more lines than one: the general path.
      if (lf === -1 || text.charCodeAt(lf + 1) !== LF) break;
      const end = oneByte ? from + lf + 2 : chunk.indexOf(LF, at + 6) + 2;
      const event: SSEEvent = { data: text.slice(i + 6, lf) };
      if (this.#keepBytes) {
        event.bytes = chunk;
        event.start = at;
        event.end = end;
      }
      out.push(event);
      i = lf + 2;
      at = end;
    }
    return at;
  }
}

/** Decodes a byte stream (a fetch body, a socket) into SSE events, in order. Returning early
 * (break in for-await) returns the source iterator too, which cancels a fetch body. Throws
 * LineTooLongError when one line outgrows `maxLineBytes`. */
export async function* decodeSSE(
  source: AsyncIterable<Uint8Array>,
  options: { maxLineBytes?: number } = {},
): AsyncGenerator<SSEEvent, void, undefined> {
  const decoder = new SSEStreamDecoder(options);
  for await (const chunk of source) yield* decoder.push(chunk);
  yield* decoder.end();
}

/** One SSE event carrying `json` (already serialised, so it has no newlines) as its data. */
export const sseData = (json: string): string => `data: ${json}\n\n`;

export const SSE_DONE = 'data: [DONE]\n\n';
