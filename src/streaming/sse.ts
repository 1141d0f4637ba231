// Server-sent events: bytes → events, after openai-node's SSEDecoder (src/core/streaming.ts) and
// the WHATWG event-stream interpretation rules
// (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).
import { LineDecoder } from './lines.js';

export interface SSEEvent {
  /** The `event:` field, when the stream named one. */
  event?: string;
  /** All `data:` lines of the event joined with "\n". */
  data: string;
  id?: string;
  /** Set on the final event of a stream that ended without the blank line closing it: it may
   * be whole (a server that omits the last blank line) or cut short, so callers that care check it. */
  unterminated?: true;
}

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
 * that already loop over the byte stream (one async hop per read, not per event). */
export class SSEStreamDecoder {
  readonly #lines: LineDecoder;
  readonly #events = new SSEDecoder();

  constructor(options: { maxLineBytes?: number } = {}) {
    this.#lines = new LineDecoder(options);
  }

  /** The events this chunk completes, in order. */
  push(chunk: Uint8Array): SSEEvent[] {
    const out: SSEEvent[] = [];
    for (const line of this.#lines.decode(chunk)) {
      const event = this.#events.decode(line);
      if (event) out.push(event);
    }
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
