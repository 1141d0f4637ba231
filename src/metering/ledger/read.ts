// Read a ledger back: a JSONL directory (usage-* and spill-* files), one JSONL file, or a
// postgres:// URL (optionally `#table` to name the table). Torn or unparseable lines are skipped
// and counted; a request id seen twice (a record both written and spilled) is yielded once.
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
  const files = info.isDirectory() ? await ledgerFiles(source, options.since) : [source];
  const seen = new Set<string>();
  const since = options.since?.getTime();
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    let n = 0;
    for await (const line of lines) {
      n++;
      if (line === '') continue;
      const record = parseRecord(line);
      if (!record) {
        options.onBadLine?.({ file, line: n });
        continue;
      }
      if (seen.has(record.requestId)) continue;
      seen.add(record.requestId);
      if (since !== undefined && Date.parse(record.time) < since) continue;
      yield record;
    }
  }
}

/** Ledger files in name order; files from days wholly before `since` are skipped (a day's file
 * holds records written that UTC day, whose start time may be up to a request's length earlier). */
async function ledgerFiles(dir: string, since: Date | undefined): Promise<string[]> {
  const minDay = since ? new Date(since.getTime() - 24 * 3600 * 1000).toISOString().slice(0, 10) : undefined;
  return (await readdir(dir))
    .map((name) => ({ name, f: parseLedgerFileName(name) }))
    .filter((x) => x.f && (minDay === undefined || x.f.day >= minDay))
    .sort((a, b) => a.f!.day.localeCompare(b.f!.day) || a.f!.kind.localeCompare(b.f!.kind) || a.f!.index - b.f!.index)
    .map((x) => join(dir, x.name));
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
