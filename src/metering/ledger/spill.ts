// The spill file: where ledger records go when the queue is full or the sink fails, so that they
// are never silently dropped. Append-only JSON Lines (`spill-YYYY-MM-DD.jsonl`) in the given dir,
// read by readLedger(dir) like the main files and replayable into PostgreSQL (idempotent on request id).
import { mkdirSync, appendFileSync, fdatasyncSync, openSync, closeSync } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { utcDay } from './files.js';

export class SpillFile {
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private handle: { day: string; fh: FileHandle } | undefined;

  constructor(
    private readonly options: { dir: string; logger?: Logger | undefined; maxPending?: number; onLost?: (records: number) => void },
  ) {}

  /** Queue lines (each ending in "\n") for the spill file; resolves false if they were lost. */
  append(lines: string[]): Promise<boolean> {
    const max = this.options.maxPending ?? 100_000;
    if (this.pending + lines.length > max) {
      this.lost(lines.length, new Error(`spill backlog above ${max} records`));
      return Promise.resolve(false);
    }
    this.pending += lines.length;
    let ok = true;
    this.chain = this.chain.then(async () => {
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
      } finally {
        this.pending -= lines.length;
      }
    });
    return this.chain.then(() => ok);
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
    await this.chain;
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
