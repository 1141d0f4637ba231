// The spill file: where ledger records go when the queue is full or the sink fails, so that they
// are never silently dropped. Append-only JSON Lines (`spill-YYYY-MM-DD.jsonl`) in the given dir,
// read by readLedger(dir) like the main files and replayable into PostgreSQL (idempotent on request id).
import { mkdirSync, appendFileSync, fdatasyncSync, openSync, closeSync } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { utcDay } from './files.js';

export class SpillFile {
  /** Lines waiting for the next write, and who waits for them. */
  private buffer: string[] = [];
  private waiters: ((ok: boolean) => void)[] = [];
  private pending = 0;
  private active: Promise<void> | undefined;
  private handle: { day: string; fh: FileHandle } | undefined;

  constructor(
    private readonly options: { dir: string; logger?: Logger | undefined; maxPending?: number; onLost?: (records: number) => void },
  ) {}

  /** Queue lines (each ending in "\n") for the spill file; resolves true once they are written and
   * fsync'd, false if they were lost. Lines arriving while a write runs go out together in the next
   * one, so an overload spills at disk speed rather than one fsync per record. */
  append(lines: string[]): Promise<boolean> {
    const max = this.options.maxPending ?? 100_000;
    if (this.pending + lines.length > max) {
      this.lost(lines.length, new Error(`spill backlog above ${max} records`));
      return Promise.resolve(false);
    }
    this.pending += lines.length;
    this.buffer.push(...lines);
    const done = new Promise<boolean>((resolve) => this.waiters.push(resolve));
    this.active ??= this.drain().finally(() => (this.active = undefined));
    return done;
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const lines = this.buffer;
      const waiters = this.waiters;
      this.buffer = [];
      this.waiters = [];
      let ok = true;
      try {
        const fh = await this.file();
        const buf = Buffer.from(lines.join(''));
        let off = 0;
        while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
        await fh.datasync();
      } catch (err) {
        ok = false;
        this.lost(lines.length, err);
        await this.closeHandle();
      }
      this.pending -= lines.length;
      for (const w of waiters) w(ok);
    }
  }

  /** Last resort after close(): append synchronously. */
  appendSync(lines: string[]): boolean {
    try {
      mkdirSync(this.options.dir, { recursive: true });
      const fd = openSync(join(this.options.dir, `spill-${utcDay(Date.now())}.jsonl`), 'a');
      try {
        appendFileSync(fd, lines.join(''));
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
      return true;
    } catch (err) {
      this.lost(lines.length, err);
      return false;
    }
  }

  async close(): Promise<void> {
    while (this.active) await this.active;
    await this.closeHandle();
  }

  private lost(records: number, err: unknown) {
    this.options.onLost?.(records);
    this.options.logger?.error({ err, records, dir: this.options.dir }, 'ledger records lost: the spill file could not be written');
  }

  private async file(): Promise<FileHandle> {
    const day = utcDay(Date.now());
    if (this.handle?.day === day) return this.handle.fh;
    await this.closeHandle();
    await mkdir(this.options.dir, { recursive: true });
    const fh = await open(join(this.options.dir, `spill-${day}.jsonl`), 'a');
    this.handle = { day, fh };
    return fh;
  }

  private async closeHandle() {
    const h = this.handle;
    this.handle = undefined;
    await h?.fh.close().catch(() => {});
  }
}
