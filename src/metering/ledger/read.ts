// Read a ledger back: a JSONL directory (usage-* and spill-* files), one JSONL file, or a
// postgres:// URL (optionally `#table` to name the table). Torn or unparseable lines are skipped
// and reported; a record both written and spilled is yielded once.
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseLedgerFileName } from './files.js';
import { readPostgres } from './postgres.js';
import type { LedgerRecord } from './types.js';

export interface ReadLedgerOptions {
  /** Only records whose time is ≥ since. */
  since?: Date | undefined;
  /** Table for a postgres source (default stateroute_usage; a `#table` suffix on the URL also works). */
  table?: string;
  /** Called for every line that is not a ledger record (a torn last line after a crash). */
  onBadLine?: (info: { file: string; line: number }) => void;
}

export async function* readLedger(source: string, options: ReadLedgerOptions = {}): AsyncGenerator<LedgerRecord> {
  if (/^postgres(ql)?:\/\//.test(source)) {
    const hash = source.indexOf('#');
    const url = hash === -1 ? source : source.slice(0, hash);
    const table = (hash === -1 ? undefined : source.slice(hash + 1)) ?? options.table ?? 'stateroute_usage';
    yield* readPostgres({ url, table, since: options.since });
    return;
  }
  const info = await stat(source);
  const since = options.since?.getTime();
  const wanted = (r: LedgerRecord) => since === undefined || Date.parse(r.time) >= since;
  if (!info.isDirectory()) {
    for await (const r of readFile(source, options)) if (wanted(r)) yield r;
    return;
  }
  const files = await ledgerFiles(source, options.since);
  const usage = files.filter((f) => f.kind === 'usage').map((f) => f.path);
  const spills = files.filter((f) => f.kind === 'spill').map((f) => f.path);
  // A record can be in both a usage file and a spill file (a batch that failed after part of it was
  // written). Only ids found in spill files can repeat, so only those are tracked: memory stays
  // proportional to the spill, not to the ledger.
  const spilled = new Set<string>();
  for (const file of spills) for await (const r of readFile(file, {})) spilled.add(r.requestId);
  const seen = new Set<string>();
  for (const file of [...usage, ...spills]) {
    for await (const r of readFile(file, options)) {
      if (spilled.has(r.requestId)) {
        if (seen.has(r.requestId)) continue;
        seen.add(r.requestId);
      }
      if (wanted(r)) yield r;
    }
  }
}

async function* readFile(file: string, options: Pick<ReadLedgerOptions, 'onBadLine'>): AsyncGenerator<LedgerRecord> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line === '') continue;
    const record = parseRecord(line);
    if (record) yield record;
    else options.onBadLine?.({ file, line: n });
  }
}

/** Ledger files by day and index; files from days wholly before `since` are skipped (a day's file
 * holds records written that UTC day, whose start time may be up to a request's length earlier). */
async function ledgerFiles(dir: string, since: Date | undefined): Promise<{ path: string; kind: 'usage' | 'spill' }[]> {
  const minDay = since ? new Date(since.getTime() - 24 * 3600 * 1000).toISOString().slice(0, 10) : undefined;
  const files = (d: string, names: string[]) =>
    names.flatMap((name) => {
      const f = parseLedgerFileName(name);
      return f && (minDay === undefined || f.day >= minDay) ? [{ ...f, path: join(d, name) }] : [];
    });
  const names = await readdir(dir);
  // `serve --workers N` gives each worker a `worker-<i>/` directory of its own: read them all.
  const workers = await Promise.all(names.filter((n) => /^worker-\d+$/.test(n)).map(async (n) => files(join(dir, n), await readdir(join(dir, n)))));
  return [...files(dir, names), ...workers.flat()].sort((a, b) => a.day.localeCompare(b.day) || a.index - b.index);
}

function parseRecord(line: string): LedgerRecord | undefined {
  try {
    const v = JSON.parse(line) as LedgerRecord;
    if (typeof v !== 'object' || v === null || typeof v.requestId !== 'string' || typeof v.time !== 'string' || typeof v.tokens !== 'object') return undefined;
    return v;
  } catch {
    return undefined;
  }
}
