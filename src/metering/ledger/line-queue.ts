// The ledger's queue of JSON lines, kept as UTF-8 bytes in one buffer outside V8's heap. A line
// waits for the next flush (up to flushIntervalMs, 200 ms by default, plus the write and fsync), so
// as a string it lived through one or two young-generation GCs and was promoted: at 6000 streamed
// requests a second the queued lines were ~80 % of what each scavenge promoted (94 KB against 16 KB
// without a ledger, --trace-gc-nvp), which brought a full GC every ~2 s, and each one showed as a
// ~30 ms stall in the latency at a fixed load. Written into the buffer as it is queued, the string
// dies young; what the queue keeps on the heap is one array of small integers (each line's end).
// Encoding it here also replaces the flush's join, byteLength and Buffer.from of every line.

/** Lines taken from the queue: their bytes, one after another, and where each ends. */
export class LineBatch {
  constructor(
    /** The lines' UTF-8 bytes, owned by the batch (a copy: the queue reuses its buffer). */
    readonly bytes: Buffer,
    /** ends[i]: the offset in `bytes` just past line i (its "\n"). */
    readonly ends: readonly number[],
  ) {}

  get count(): number {
    return this.ends.length;
  }

  /** Offset of line i's first byte. */
  startOf(i: number): number {
    return i === 0 ? 0 : this.ends[i - 1]!;
  }

  /** Line i as text, with its "\n". */
  line(i: number): string {
    return this.bytes.toString('utf8', this.startOf(i), this.ends[i]);
  }

  /** Lines i… as text (for the spill file and the database sink, which take strings). */
  lines(from = 0): string[] {
    const out: string[] = [];
    for (let i = from; i < this.ends.length; i++) out.push(this.line(i));
    return out;
  }
}

const INITIAL_BYTES = 64 * 1024;

export class LineQueue {
  private buf = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  /** End offset of each queued line in `buf`, oldest first, from `first`. */
  private ends: number[] = [];
  private first = 0;
  /** Offset of the oldest queued line's first byte, and just past the newest's last. */
  private head = 0;
  private tail = 0;

  get length(): number {
    return this.ends.length - this.first;
  }

  push(line: string): void {
    // At most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units).
    const room = line.length * 3;
    if (this.tail + room > this.buf.length) this.makeRoom(room);
    this.tail += this.buf.write(line, this.tail, 'utf8');
    this.ends.push(this.tail);
  }

  /** Removes the oldest `n` lines (at most all) and returns them. */
  take(n: number): LineBatch {
    const count = Math.min(n, this.length);
    const from = this.head;
    const to = count === 0 ? from : this.ends[this.first + count - 1]!;
    const ends = this.ends.slice(this.first, this.first + count).map((end) => end - from);
    const batch = new LineBatch(Buffer.from(this.buf.subarray(from, to)), ends);
    this.first += count;
    this.head = to;
    if (this.first === this.ends.length) {
      // Empty: start again at the front (the usual case, a whole tick's lines taken at once).
      this.ends = [];
      this.first = 0;
      this.head = this.tail = 0;
    }
    return batch;
  }

  /** Moves the queued bytes to the front, into a larger buffer if they and `room` do not fit. */
  private makeRoom(room: number): void {
    const queued = this.tail - this.head;
    let size = this.buf.length;
    while (queued + room > size) size *= 2;
    const next = size === this.buf.length ? this.buf : Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, this.head, this.tail);
    this.buf = next;
    const shift = this.head;
    const ends = this.ends.slice(this.first);
    for (let i = 0; i < ends.length; i++) ends[i]! -= shift;
    this.ends = ends;
    this.first = 0;
    this.head = 0;
    this.tail = queued;
  }
}
