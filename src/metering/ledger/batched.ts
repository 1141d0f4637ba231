// The part both sinks share: a bounded in-memory queue drained by a timer in batches, with the
// spill file as the place records go when the queue is full or a batch fails.
import type { Logger } from 'pino';
import { ledgerLine } from './line.js';
import { LineQueue, type LineBatch } from './line-queue.js';
import { SpillFile } from './spill.js';
import type { LedgerHooks, LedgerRecord, LedgerSink } from './types.js';

export interface BatchedSinkOptions {
  flushIntervalMs: number;
  maxQueue: number;
  spillDir: string;
  logger?: Logger | undefined;
  hooks?: LedgerHooks | undefined;
}

export abstract class BatchedSink implements LedgerSink {
  /** JSON lines, serialised at write() so a bad record fails alone and later mutation cannot change
   * it, and kept as bytes off the heap (line-queue.ts says why). */
  private readonly queue = new LineQueue();
  private running: Promise<void> = Promise.resolve();
  /** Flush passes queued or running. */
  private passes = 0;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  protected readonly spill: SpillFile;
  protected readonly logger: Logger | undefined;
  protected readonly hooks: LedgerHooks;

  constructor(private readonly base: BatchedSinkOptions) {
    if (!(base.flushIntervalMs > 0 && base.flushIntervalMs <= 1000)) throw new RangeError(`flushIntervalMs must be in (0, 1000], got ${base.flushIntervalMs}`);
    if (!(Number.isInteger(base.maxQueue) && base.maxQueue > 0)) throw new RangeError(`maxQueue must be a positive integer, got ${base.maxQueue}`);
    this.logger = base.logger;
    this.hooks = base.hooks ?? {};
    this.spill = new SpillFile({ dir: base.spillDir, logger: base.logger, onLost: (n) => this.hooks.onWriteFailure?.(n) });
    // A tick while a pass is still running (slow disk, hung database) is skipped, not queued.
    this.timer = setInterval(() => {
      if (this.passes === 0) void this.flush().catch(() => {});
    }, base.flushIntervalMs);
    this.timer.unref();
  }

  /** Write one batch of JSON lines durably, or throw (the batch is then spilled; an error with
   * `written: n` says its first n lines were written and only the rest is). */
  protected abstract writeBatch(batch: LineBatch): Promise<void>;
  /** Release files or connections. */
  protected abstract release(): Promise<void>;
  /** Largest batch handed to writeBatch. */
  protected maxBatch = 5000;

  queueDepth(): number {
    return this.queue.length;
  }

  write(record: LedgerRecord): void {
    try {
      const line = ledgerLine(record);
      if (this.closed) {
        if (this.spill.appendSync([line])) this.hooks.onSpill?.(1);
        return;
      }
      if (this.queue.length >= this.base.maxQueue) {
        this.hooks.onSpill?.(1);
        void this.spill.append([line]);
        return;
      }
      // While records wait, the timer keeps the process alive so a natural exit still writes them.
      if (this.queue.length === 0) this.timer.ref();
      this.queue.push(line);
    } catch (err) {
      this.hooks.onWriteFailure?.(1);
      this.logger?.error({ err, requestId: record?.requestId }, 'ledger record could not be queued');
    }
  }

  /** Drain the queue as it is now; passes run one after another. */
  flush(): Promise<void> {
    this.passes++;
    const next = this.running.then(() => this.drain()).finally(() => this.passes--);
    this.running = next;
    return next;
  }

  private async drain(): Promise<void> {
    try {
      await this.drainQueue();
    } finally {
      if (this.queue.length === 0) this.timer.unref();
    }
  }

  /** Writes only what was queued when the pass began: records arriving meanwhile wait for the next
   * tick, so steady load costs one write and one fsync per tick rather than one per batch written. */
  private async drainQueue(): Promise<void> {
    for (let left = this.queue.length; left > 0; ) {
      const batch = this.queue.take(Math.min(left, this.maxBatch));
      left -= batch.count;
      try {
        await this.writeBatch(batch);
        this.hooks.onFlush?.({ records: batch.count, lastRequestId: lastRequestId(batch), at: Date.now() });
      } catch (err) {
        // A sink may have written a prefix of the batch durably before failing; spill only the rest.
        const written = Math.min(batch.count, Math.max(0, (err as { written?: number }).written ?? 0));
        const rest = batch.lines(written);
        this.hooks.onWriteFailure?.(rest.length);
        this.logger?.error({ err, records: rest.length }, 'ledger batch write failed; spilling it to the local spill file');
        if (await this.spill.append(rest)) this.hooks.onSpill?.(rest.length);
        return; // the next tick tries the sink again
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    // Drain fully: a failing batch is spilled, so every pass shrinks the queue.
    do await this.flush();
    while (this.queue.length > 0);
    this.closed = true;
    await this.release().catch((err) => this.logger?.error({ err }, 'ledger sink close failed'));
    await this.spill.close();
  }
}

/** For the onFlush hook (evaluated only when one is set): one parse per batch, not a kept record per line. */
const lastRequestId = (batch: LineBatch): string | undefined =>
  batch.count === 0 ? undefined : (JSON.parse(batch.line(batch.count - 1)) as LedgerRecord).requestId;
