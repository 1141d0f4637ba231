// Byte-level line splitter for text/event-stream, after openai-node's LineDecoder
// (src/internal/decoders/line.ts). Lines end at "\r\n", "\n" or "\r" (WHATWG SSE §9.2.5), and a
// terminator may be split across chunks: a chunk ending in "\r" waits to see whether the next
// one starts with "\n". Bytes are decoded per complete line, so a multi-byte UTF-8 character split
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

export class LineDecoder {
  readonly #utf8 = new TextDecoder();
  readonly #maxLineBytes: number;
  /** Bytes of the current, unfinished line (from earlier chunks). */
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** The previous chunk ended with "\r": a "\n" at the start of the next chunk belongs to it. */
  #afterCR = false;

  constructor(options: { maxLineBytes?: number } = {}) {
    this.#maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  /** Complete lines found in `chunk` (without their terminators). */
  decode(chunk: Uint8Array): string[] {
    const lines: string[] = [];
    let start = 0;
    if (this.#afterCR && chunk.length > 0) {
      this.#afterCR = false;
      if (chunk[0] === LF) start = 1;
    }
    // indexOf runs natively; the next CR and LF positions are each searched again only once passed.
    let nextLF = chunk.indexOf(LF, start);
    let nextCR = chunk.indexOf(CR, start);
    while (nextLF !== -1 || nextCR !== -1) {
      const i = nextCR === -1 || (nextLF !== -1 && nextLF < nextCR) ? nextLF : nextCR;
      lines.push(this.#take(chunk.subarray(start, i)));
      start = i + 1;
      if (i === nextCR) {
        if (start === chunk.length) this.#afterCR = true;
        else if (chunk[start] === LF) start++;
      }
      if (nextLF !== -1 && nextLF < start) nextLF = chunk.indexOf(LF, start);
      if (nextCR !== -1 && nextCR < start) nextCR = chunk.indexOf(CR, start);
    }
    // Copy: the caller may reuse its buffer.
    if (start < chunk.length) {
      this.#pendingBytes += chunk.length - start;
      if (this.#pendingBytes > this.#maxLineBytes) throw new LineTooLongError(this.#maxLineBytes);
      this.#pending.push(chunk.slice(start));
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
    if (this.#pending.length === 0) return this.#utf8.decode(tail);
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
    return this.#utf8.decode(joined);
  }
}
