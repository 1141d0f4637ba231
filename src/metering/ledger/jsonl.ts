// Append-only JSON Lines ledger. Batches are written every flushIntervalMs (≤ 1 s) as one write()
// of whole lines, then fdatasync'd, so a crash loses at most the last unflushed interval and never
// touches an earlier line. Files rotate by UTC day and by size: usage-YYYY-MM-DD[.N].jsonl. After a
// crash the last line of the current file may be torn; on reopening, a newline is written first so
// the torn fragment stays a line of its own (readers skip it) and never corrupts the next record.
// One directory per process: several processes appending to one directory is not supported.
import { mkdir, open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { BatchedSink, type BatchedSinkOptions } from './batched.js';
import type { LineBatch } from './line-queue.js';
import { parseLedgerFileName, usageFileName, utcDay } from './files.js';

/** What the sink needs of a file handle (tests wrap the real one to watch datasync). */
export type LedgerFileHandle = Pick<FileHandle, 'write' | 'datasync' | 'close'>;

export interface JsonlLedgerOptions extends Omit<BatchedSinkOptions, 'spillDir'> {
  dir: string;
  maxFileBytes: number;
  /** Opens a file for appending; defaults to fs.promises.open(path, 'a'). */
  openFile?: (path: string) => Promise<LedgerFileHandle>;
  /** Clock for the day of rotation (tests). */
  now?: () => number;
}

export class JsonlLedger extends BatchedSink {
  private current: { day: string; index: number; size: number; fh: LedgerFileHandle; path: string } | undefined;
  private readonly openFile: (path: string) => Promise<LedgerFileHandle>;
  private readonly now: () => number;

  constructor(private readonly options: JsonlLedgerOptions) {
    super({ ...options, spillDir: options.dir });
    if (!(Number.isInteger(options.maxFileBytes) && options.maxFileBytes > 0)) throw new RangeError(`maxFileBytes must be a positive integer, got ${options.maxFileBytes}`);
    this.openFile = options.openFile ?? ((path) => open(path, 'a'));
    this.now = options.now ?? Date.now;
  }

  /** The file being appended to (for tests and diagnostics). */
  currentFile(): string | undefined {
    return this.current?.path;
  }

  protected async writeBatch(batch: LineBatch): Promise<void> {
    const day = utcDay(this.now());
    // The lines are bytes already (line-queue.ts): each write is a view of the batch's buffer.
    const size = (i: number) => batch.ends[i]! - batch.startOf(i);
    let i = 0;
    try {
      while (i < batch.count) {
        const file = await this.fileFor(day);
        // Take as many whole lines as fit; a file always takes at least one line.
        if (file.size > 0 && file.size + size(i) > this.options.maxFileBytes) {
          await this.rotate(day, file.index + 1);
          continue;
        }
        let j = i + 1;
        while (j < batch.count && file.size + batch.ends[j]! - batch.startOf(i) <= this.options.maxFileBytes) j++;
        const bytes = batch.ends[j - 1]! - batch.startOf(i);
        await writeAll(file.fh, batch.bytes.subarray(batch.startOf(i), batch.ends[j - 1]));
        file.size += bytes;
        i = j;
      }
      if (this.current) await this.current.fh.datasync();
    } catch (err) {
      // Lines written before the failure are whole and stay; the caller spills the rest. They are
      // not yet fsync'd, but a process crash keeps them (the page cache survives it).
      await this.closeCurrent();
      throw Object.assign(new Error(`ledger write failed after ${i} of ${batch.count} records`, { cause: err }), { written: i });
    }
  }

  protected async release(): Promise<void> {
    await this.closeCurrent();
  }

  private async fileFor(day: string) {
    if (this.current?.day === day) return this.current;
    await this.closeCurrent();
    await mkdir(this.options.dir, { recursive: true });
    let index = 0;
    for (const name of await readdir(this.options.dir)) {
      const f = parseLedgerFileName(name);
      if (f?.kind === 'usage' && f.day === day && f.index > index) index = f.index;
    }
    return this.rotate(day, index);
  }

  private async rotate(day: string, index: number) {
    // The file being left may hold lines of this batch: make them durable before closing it.
    if (this.current) await this.current.fh.datasync();
    await this.closeCurrent();
    const path = join(this.options.dir, usageFileName(day, index));
    const size = await stat(path).then((s) => s.size, () => 0);
    const fh = await this.openFile(path);
    this.current = { day, index, size, fh, path };
    if (size > 0 && !(await endsWithNewline(path, size))) {
      await writeAll(fh, Buffer.from('\n'));
      this.current.size += 1;
    }
    return this.current;
  }

  private async closeCurrent() {
    const c = this.current;
    this.current = undefined;
    if (c) await c.fh.close().catch(() => {});
  }
}

async function writeAll(fh: LedgerFileHandle, buf: Buffer) {
  let off = 0;
  while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
}

async function endsWithNewline(path: string, size: number): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const { buffer } = await fh.read(Buffer.alloc(1), 0, 1, size - 1);
    return buffer[0] === 0x0a;
  } finally {
    await fh.close();
  }
}
