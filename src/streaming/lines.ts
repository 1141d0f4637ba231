// Byte-level line splitter for text/event-stream, after openai-node's LineDecoder
// (src/internal/decoders/line.ts). Lines end at "\r\n", "\n" or "\r" (WHATWG SSE §9.2.5), and a
// terminator may be split across chunks: a chunk ending in "\r" waits to see whether the next
// one starts with "\n". Only complete lines are decoded, so a multi-byte UTF-8 character split
// across chunks is never torn (line terminators are ASCII and never occur inside one).

const LF = 0x0a;
const CR = 0x0d;

/** Default cap on one line: far above any real chunk, low enough that a peer that never sends a
 * newline cannot grow memory without bound. */
export const DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024;

export class LineTooLongError extends Error {
  constructor(readonly maxLineBytes: number) {
    super(`an event-stream line exceeded ${maxLineBytes} bytes without a line break`);
    this.name = 'LineTooLongError';
  }
}

/** One for the module and sse.ts: decode() without `stream` keeps no state, and building one per
 * decoder (two per streamed request, with SSEStreamDecoder's) cost ~1 k instructions a request in
 * their constructors (callgrind). */
export const utf8 = new TextDecoder();

export class LineDecoder {
  readonly #maxLineBytes: number;
  /** Bytes of the current, unfinished line (from earlier chunks). */
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** The previous chunk ended with "\r": a "\n" at the start of the next chunk belongs to it. */
  #afterCR = false;

  constructor(options: { maxLineBytes?: number } = {}) {
    this.#maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  /** No part of a line is held back: the next byte starts a new line. */
  get atLineStart(): boolean {
    return this.#pending.length === 0 && !this.#afterCR;
  }

  /** Complete lines found in `chunk` (without their terminators). */
  decode(chunk: Uint8Array): string[] {
    let start = 0;
    if (this.#afterCR && chunk.length > 0) {
      this.#afterCR = false;
      if (chunk[0] === LF) start = 1;
    }
    // The complete lines run up to the last terminator and are decoded with one call, not one per
    // line: a terminator is ASCII, so no character is torn there. lastIndexOf runs natively.
    const lastCR = chunk.lastIndexOf(CR);
    const last = Math.max(chunk.lastIndexOf(LF), lastCR);
    const lines = last >= start ? splitLines(this.#take(chunk.subarray(start, last + 1)), lastCR >= start) : [];
    if (last >= start && chunk[last] === CR && last === chunk.length - 1) this.#afterCR = true;
    // Copy: the caller may reuse its buffer.
    const rest = Math.max(start, last + 1);
    if (rest < chunk.length) {
      this.#pendingBytes += chunk.length - rest;
      if (this.#pendingBytes > this.#maxLineBytes) throw new LineTooLongError(this.#maxLineBytes);
      this.#pending.push(chunk.slice(rest));
    }
    return lines;
  }

  /** The last line when the input ended without a terminator (empty list otherwise). */
  flush(): string[] {
    this.#afterCR = false;
    if (this.#pending.length === 0) return [];
    return [this.#take(new Uint8Array(0))];
  }

  #take(tail: Uint8Array): string {
    if (this.#pending.length === 0) return utf8.decode(tail);
    const parts = [...this.#pending, tail];
    this.#pending = [];
    this.#pendingBytes = 0;
    const size = parts.reduce((n, p) => n + p.length, 0);
    const joined = new Uint8Array(size);
    let offset = 0;
    for (const part of parts) {
      joined.set(part, offset);
      offset += part.length;
    }
    return utf8.decode(joined);
  }
}

/** The lines of `text`, which ends with a terminator ("\r\n", "\n" or "\r"); `crs` when it holds
 * a "\r" at all (the bytes said so), else only "\n" is searched for. */
function splitLines(text: string, crs: boolean): string[] {
  const lines: string[] = [];
  let start = 0;
  let nextLF = text.indexOf('\n');
  let nextCR = crs ? text.indexOf('\r') : -1;
  while (start < text.length) {
    const i = nextCR === -1 || (nextLF !== -1 && nextLF < nextCR) ? nextLF : nextCR;
    lines.push(text.slice(start, i));
    start = i + 1;
    if (i === nextCR && text.charCodeAt(start) === LF) start++;
    if (nextLF !== -1 && nextLF < start) nextLF = text.indexOf('\n', start);
    if (nextCR !== -1 && nextCR < start) nextCR = text.indexOf('\r', start);
  }
  return lines;
}
