import { readLedger, type ReadLedgerOptions } from './read.js';
import type { LedgerSink } from './types.js';

/** Copy every record of a ledger (a JSONL dir, such as a PostgreSQL sink's spill dir) into a sink.
 * Into PostgreSQL this is idempotent: records already there are not counted twice. Flushes as it
 * goes so the sink's queue never overflows. Returns the number of records read. The caller closes `to`. */
export async function copyLedger(options: { from: string; to: LedgerSink; since?: ReadLedgerOptions['since']; batch?: number }): Promise<number> {
  const batch = options.batch ?? 1000;
  let n = 0;
  for await (const record of readLedger(options.from, { since: options.since })) {
    options.to.write(record);
    if (++n % batch === 0) await options.to.flush();
  }
  await options.to.flush();
  return n;
}
