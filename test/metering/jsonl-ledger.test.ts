import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { meteringSchema } from '../../src/config/metering.js';
import { JsonlLedger, type JsonlLedgerOptions, type LedgerFileHandle } from '../../src/metering/ledger/jsonl.js';
import { readLedger } from '../../src/metering/ledger/read.js';
import type { LedgerRecord } from '../../src/metering/ledger/types.js';
import { record, spyLogger, tempDir } from './helpers.js';

const defaultFlushMs = (meteringSchema.parse({}).ledger as { flushIntervalMs: number }).flushIntervalMs;
const today = () => new Date().toISOString().slice(0, 10);
const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);
const collect = async (source: string, opts: Parameters<typeof readLedger>[1] = {}) => {
  const out: LedgerRecord[] = [];
  for await (const r of readLedger(source, opts)) out.push(r);
  return out;
};

interface FileEvents {
  writes: { at: number; bytes: number }[];
  syncs: number[];
}

/** Real files, with every write and datasync timestamped. */
function watchedOpen(events: FileEvents): (path: string) => Promise<LedgerFileHandle> {
  return async (path) => {
    const fh = await open(path, 'a');
    return {
      write: (async (buf: Buffer, off: number, len: number) => {
        events.writes.push({ at: Date.now(), bytes: len });
        return fh.write(buf, off, len);
      }) as LedgerFileHandle['write'],
      datasync: async () => {
        await fh.datasync();
        events.syncs.push(Date.now());
      },
      close: () => fh.close(),
    };
  };
}

const open_: JsonlLedger[] = [];
function ledger(options: Partial<JsonlLedgerOptions> & { dir: string }) {
  const l = new JsonlLedger({ maxFileBytes: 1024 * 1024, flushIntervalMs: 100, maxQueue: 10_000, ...options });
  open_.push(l);
  return l;
}
afterEach(async () => {
  await Promise.all(open_.splice(0).map((l) => l.close()));
});

describe('JSONL ledger', () => {
  it('batches: nothing is written until the flush interval, then one write of whole lines', async () => {
    const dir = tempDir();
    const events: FileEvents = { writes: [], syncs: [] };
    const l = ledger({ dir, flushIntervalMs: 150, openFile: watchedOpen(events) });
    for (let i = 0; i < 5; i++) l.write(record());
    expect(l.queueDepth()).toBe(5);
    expect(existsSync(join(dir, `usage-${today()}.jsonl`))).toBe(false);
    await sleep(400);
    expect(l.queueDepth()).toBe(0);
    expect(events.writes).toHaveLength(1);
    const file = join(dir, `usage-${today()}.jsonl`);
    expect(lines(file)).toHaveLength(5);
    expect(events.writes[0]!.bytes).toBe(statSync(file).size);
    lines(file).forEach((line) => expect(() => JSON.parse(line)).not.toThrow());
  });

  it('fsyncs every record within a second of write(), under continuous load', async () => {
    const dir = tempDir();
    const events: FileEvents = { writes: [], syncs: [] };
    const written: { at: number; id: string }[] = [];
    const synced = new Map<string, number>();
    let pending: string[] = [];
    const l = ledger({
      dir,
      flushIntervalMs: defaultFlushMs,
      openFile: watchedOpen(events),
      hooks: {
        onFlush: ({ records, at }) => {
          pending.splice(0, records).forEach((id) => synced.set(id, at));
        },
      },
    });
    const until = Date.now() + 2600;
    expect(defaultFlushMs).toBe(200);
    while (Date.now() < until) {
      const r = record();
      written.push({ at: Date.now(), id: r.requestId });
      pending.push(r.requestId);
      l.write(r);
      await sleep(20);
    }
    await sleep(1100);
    expect(written.length).toBeGreaterThan(50);
    const lags = written.map((w) => (synced.get(w.id) ?? Infinity) - w.at);
    expect(Math.max(...lags)).toBeLessThanOrEqual(1000);
    // each onFlush came after a datasync
    expect(events.syncs.length).toBeGreaterThanOrEqual(3);
    pending = [];
  });

  it('a flush pass writes only what was queued when it began; later records wait for the next pass', async () => {
    const dir = tempDir();
    const events: FileEvents = { writes: [], syncs: [] };
    let arrivals = 3;
    // Records arriving while the pass runs (here: as soon as its first batch is durable).
    const onFlush = () => {
      for (; arrivals > 0; arrivals--) l.write(record());
    };
    const l = ledger({ dir, flushIntervalMs: 1000, openFile: watchedOpen(events), hooks: { onFlush } });
    for (let i = 0; i < 5; i++) l.write(record());
    await l.flush();
    expect(events.syncs).toHaveLength(1);
    expect(l.queueDepth()).toBe(3);
    await l.flush();
    expect(events.syncs).toHaveLength(2);
    expect(l.queueDepth()).toBe(0);
    expect(lines(join(dir, `usage-${today()}.jsonl`))).toHaveLength(8);
  });

  it('under continuous load on a slow disk: one write and one datasync per tick, every record exactly once', async () => {
    const dir = tempDir();
    const events: FileEvents = { writes: [], syncs: [] };
    const watched = watchedOpen(events);
    const slowOpen = async (path: string): Promise<LedgerFileHandle> => {
      const fh = await watched(path);
      // 30 ms a write: with records arriving all the time, draining until empty wrote back to back
      return { ...fh, write: (async (...args: Parameters<LedgerFileHandle['write']>) => (await sleep(30), fh.write(...args))) as LedgerFileHandle['write'] };
    };
    const flushIntervalMs = 100;
    const l = ledger({ dir, flushIntervalMs, openFile: slowOpen });
    const ids: string[] = [];
    const started = Date.now();
    while (Date.now() - started < 1200) {
      const r = record();
      ids.push(r.requestId);
      l.write(r);
      await sleep(2);
    }
    const ticks = Math.ceil((Date.now() - started) / flushIntervalMs);
    await l.close(); // at most one more pass
    expect(ids.length).toBeGreaterThan(200);
    expect(events.syncs.length).toBeGreaterThanOrEqual(5);
    expect(events.syncs.length).toBeLessThanOrEqual(ticks + 1);
    expect(events.writes.length).toBe(events.syncs.length);
    expect((await collect(dir)).map((r) => r.requestId)).toEqual(ids);
  });

  it('the config refuses a flush interval that could not keep the one-second promise', () => {
    expect(() => meteringSchema.parse({ ledger: { type: 'jsonl', flushIntervalMs: 1000 } })).toThrow(/within a second/);
    expect(meteringSchema.parse({ ledger: { type: 'jsonl', flushIntervalMs: 500 } }).ledger).toMatchObject({ flushIntervalMs: 500 });
  });

  it('rotates by size into usage-DAY.N.jsonl, never splitting a line, every file fsync\'d', async () => {
    const dir = tempDir();
    const events: FileEvents = { writes: [], syncs: [] };
    const l = ledger({ dir, maxFileBytes: 2000, openFile: watchedOpen(events) });
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const r = record();
      ids.push(r.requestId);
      l.write(r);
    }
    await l.flush();
    const files = readdirSync(dir).sort();
    expect(files.length).toBeGreaterThanOrEqual(4);
    expect(files).toContain(`usage-${today()}.jsonl`);
    expect(files).toContain(`usage-${today()}.1.jsonl`);
    for (const f of files) {
      expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(2000);
      lines(join(dir, f)).forEach((line) => expect(() => JSON.parse(line)).not.toThrow());
    }
    expect((await collect(dir)).map((r) => r.requestId)).toEqual(ids);
    expect(events.syncs.length).toBe(files.length); // one batch, spread over several files: each synced
    // a new process continues in the last file, and rotates on from there
    const l2 = ledger({ dir, maxFileBytes: 2000 });
    for (let i = 0; i < 10; i++) l2.write(record());
    await l2.flush();
    expect(readdirSync(dir).length).toBeGreaterThan(files.length);
    expect(await collect(dir)).toHaveLength(40);
  });

  it('rotates by bytes, not characters: lines with multi-byte text stay whole and files within the limit', async () => {
    const dir = tempDir();
    const l = ledger({ dir, maxFileBytes: 2000 });
    const written = Array.from({ length: 30 }, (_, i) => record({ tenant: `東京-café-${'€'.repeat(i * 3)}`, modelRequested: `😀${i}` }));
    for (const r of written) l.write(r);
    await l.flush();
    const files = readdirSync(dir);
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(2000);
      lines(join(dir, f)).forEach((line) => expect(() => JSON.parse(line)).not.toThrow());
    }
    expect(await collect(dir)).toEqual(written);
  });

  it('rotates by UTC day', async () => {
    const dir = tempDir();
    let now = Date.parse('2026-11-25T23:59:59.900Z');
    const l = ledger({ dir, now: () => now });
    l.write(record({ time: '2026-11-25T23:59:59.000Z' }));
    await l.flush();
    now = Date.parse('2026-11-26T00:00:00.100Z');
    l.write(record({ time: '2026-11-26T00:00:00.000Z' }));
    await l.flush();
    expect(readdirSync(dir).sort()).toEqual(['usage-2026-11-25.jsonl', 'usage-2026-11-26.jsonl']);
    expect(await collect(dir, { since: new Date('2026-11-26T00:00:00Z') })).toHaveLength(1);
  });

  it('spills to the spill file when the queue is full, and counts it', async () => {
    const dir = tempDir();
    let spilled = 0;
    const l = ledger({ dir, maxQueue: 3, hooks: { onSpill: (n) => (spilled += n) } });
    const ids = Array.from({ length: 10 }, () => record()).map((r) => (l.write(r), r.requestId));
    expect(l.queueDepth()).toBe(3);
    expect(spilled).toBe(7);
    await l.close();
    expect(lines(join(dir, `usage-${today()}.jsonl`))).toHaveLength(3);
    expect(lines(join(dir, `spill-${today()}.jsonl`))).toHaveLength(7);
    expect((await collect(dir)).map((r) => r.requestId).sort()).toEqual(ids.sort());
  });

  it('an overload spills at disk speed, losing nothing', async () => {
    const dir = tempDir();
    let spilled = 0;
    let failures = 0;
    const l = ledger({ dir, maxQueue: 10, flushIntervalMs: 500, hooks: { onSpill: (n) => (spilled += n), onWriteFailure: (n) => (failures += n) } });
    const started = Date.now();
    for (let i = 0; i < 50_000; i++) l.write(record());
    await l.close();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(spilled).toBe(49_990);
    expect(failures).toBe(0);
    expect(lines(join(dir, `spill-${today()}.jsonl`)).length).toBe(49_990);
    expect(await collect(dir)).toHaveLength(50_000);
  });

  it('spills when the sink fails, so records do not vanish', async () => {
    const dir = tempDir();
    let failures = 0;
    let spilled = 0;
    const logger = spyLogger();
    const l = ledger({
      dir,
      logger,
      openFile: async () => {
        throw Object.assign(new Error('EIO: disk on fire'), { code: 'EIO' });
      },
      hooks: { onSpill: (n) => (spilled += n), onWriteFailure: (n) => (failures += n) },
    });
    for (let i = 0; i < 4; i++) l.write(record());
    await l.close();
    expect(failures).toBe(4);
    expect(spilled).toBe(4);
    expect(logger.errors.length).toBeGreaterThan(0);
    expect(await collect(dir)).toHaveLength(4);
  });

  it('a batch cut by a failing rotation keeps the lines it wrote and spills only the rest, each line once', async () => {
    const dir = tempDir();
    let opens = 0;
    let spilled = 0;
    let failures = 0;
    const l = ledger({
      dir,
      maxFileBytes: 2000,
      flushIntervalMs: 1000,
      logger: spyLogger(),
      // The first file opens; the rotation to the second fails, midway through the batch.
      openFile: async (path) => {
        if (++opens > 1) throw Object.assign(new Error('EIO: second file'), { code: 'EIO' });
        return open(path, 'a');
      },
      hooks: { onSpill: (n) => (spilled += n), onWriteFailure: (n) => (failures += n) },
    });
    const written = Array.from({ length: 20 }, (_, i) => record({ tenant: `t-${i}-${'é'.repeat(i)}` }));
    for (const r of written) l.write(r);
    await l.close();
    const inFile = lines(join(dir, `usage-${today()}.jsonl`)).map((x) => JSON.parse(x) as LedgerRecord);
    expect(inFile.length).toBeGreaterThan(0);
    expect(inFile.length).toBeLessThan(20);
    expect(Buffer.byteLength(readFileSync(join(dir, `usage-${today()}.jsonl`)))).toBeLessThanOrEqual(2000);
    expect(spilled).toBe(20 - inFile.length);
    expect(failures).toBe(20 - inFile.length);
    expect(inFile).toEqual(written.slice(0, inFile.length));
    expect(await collect(dir)).toEqual(written);
  });

  it('close() flushes everything; a write after close still lands (spill)', async () => {
    const dir = tempDir();
    const l = ledger({ dir, flushIntervalMs: 1000 });
    for (let i = 0; i < 1000; i++) l.write(record());
    await l.close();
    expect(lines(join(dir, `usage-${today()}.jsonl`))).toHaveLength(1000);
    l.write(record());
    expect(await collect(dir)).toHaveLength(1001);
  });

  it('write() never throws, even for a record that cannot be serialised', async () => {
    const dir = tempDir();
    let failures = 0;
    const l = ledger({ dir, hooks: { onWriteFailure: (n) => (failures += n) } });
    const bad = record() as LedgerRecord & { self?: unknown };
    bad.self = bad;
    expect(() => l.write(bad)).not.toThrow();
    l.write(record());
    await l.close();
    expect(failures).toBeGreaterThan(0);
    expect(await collect(dir)).toHaveLength(1);
  });

  it('after a crash, a torn last line stays a line of its own: the next record is intact', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `usage-${today()}.jsonl`);
    const good = record();
    writeFileSync(file, JSON.stringify(good) + '\n');
    appendFileSync(file, JSON.stringify(record()).slice(0, 40)); // torn by a kill -9
    const l = ledger({ dir });
    const next = record();
    l.write(next);
    await l.close();
    const bad: number[] = [];
    const got = await collect(dir, { onBadLine: ({ line }) => bad.push(line) });
    expect(got.map((r) => r.requestId)).toEqual([good.requestId, next.requestId]);
    expect(bad).toEqual([2]);
  });
});

describe('JSONL ledger durability (child processes)', () => {
  const writer = fileURLToPath(new URL('./fixtures/ledger-writer.ts', import.meta.url));
  const start = (dir: string, limit?: number, mode: 'serve' | 'exit' = 'serve', prefix = 'seq') => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, limit ? String(limit) : 'Infinity', mode, prefix], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const waitFor = async (re: RegExp, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!re.test(out)) {
        if (Date.now() > deadline) throw new Error(`child never printed ${re}; got: ${out.slice(-500)}`);
        await sleep(20);
      }
    };
    return { child, exited, waitFor, output: () => out };
  };

  it('kill -9 under load: every record flushed before the kill is intact, none duplicated', async () => {
    const dir = tempDir();
    const c = start(dir);
    await c.waitFor(/flushed \d+\n(.|\n)*flushed \d+\n(.|\n)*flushed \d+\n/);
    await sleep(300);
    c.child.kill('SIGKILL');
    await c.exited;
    const flushed = [...c.output().matchAll(/flushed (\d+)\n/g)].map((m) => Number(m[1]));
    const lastFlushed = Math.max(...flushed);
    expect(lastFlushed).toBeGreaterThan(1000);

    // Every line in every file is a whole record, except possibly the very last line of the last file.
    const files = readdirSync(dir).filter((f) => f.startsWith('usage-'));
    let torn = 0;
    const seqs: number[] = [];
    for (const f of files) {
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
        if (!line) continue;
        try {
          seqs.push(Number((JSON.parse(line) as LedgerRecord).requestId.split('-')[1]));
        } catch {
          torn++;
        }
      }
    }
    expect(torn).toBeLessThanOrEqual(1);
    expect(new Set(seqs).size).toBe(seqs.length); // no duplicates
    const have = new Set(seqs);
    for (let n = 1; n <= lastFlushed; n++) if (!have.has(n)) throw new Error(`record ${n} was flushed before the kill but is missing`);

    // Restart in the same directory: appends cleanly after any torn line, and the reader skips it.
    const again = start(dir, 500, 'serve', 'restart');
    await again.waitFor(/wrote 500\n/);
    await sleep(300);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    const got = [];
    let bad = 0;
    for await (const r of readLedger(dir, { onBadLine: () => bad++ })) got.push(r);
    expect(bad).toBe(torn);
    expect(got.length).toBe(seqs.length + 500);
    expect(got.filter((r) => r.requestId.startsWith('restart-'))).toHaveLength(500);
  });

  it('SIGTERM loses nothing', async () => {
    const dir = tempDir();
    const c = start(dir, 20_000);
    await c.waitFor(/wrote 20000\n/);
    c.child.kill('SIGTERM');
    expect(await c.exited).toBe(0);
    expect(c.output()).toContain('closed 20000');
    const got = await collect(dir);
    expect(got).toHaveLength(20_000);
    expect(new Set(got.map((r) => r.requestId)).size).toBe(20_000);
  });

  it('a process that ends without close() still writes what it queued', async () => {
    const dir = tempDir();
    const c = start(dir, 5000, 'exit');
    expect(await c.exited).toBe(0);
    expect(c.output()).not.toContain('closed');
    expect(await collect(dir)).toHaveLength(5000);
  });
});
