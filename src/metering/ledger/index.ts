import type { Logger } from 'pino';
import type { LedgerConfig } from '../../config/metering.js';
import { JsonlLedger } from './jsonl.js';
import { PostgresLedger } from './postgres.js';
import type { LedgerHooks, LedgerSink } from './types.js';

export type { LedgerRecord, LedgerSink, LedgerHooks } from './types.js';
export { JsonlLedger } from './jsonl.js';
export { PostgresLedger, createTableSql } from './postgres.js';
export { readLedger, type ReadLedgerOptions } from './read.js';
export { copyLedger } from './copy.js';

/** The sink the config asks for; `none` gives a sink that drops records (tokens and metrics still count). */
export function createLedger(options: { config: LedgerConfig; logger?: Logger; hooks?: LedgerHooks }): LedgerSink {
  const { config, logger, hooks } = options;
  switch (config.type) {
    case 'jsonl':
      return new JsonlLedger({ dir: config.dir, maxFileBytes: config.maxFileBytes, flushIntervalMs: config.flushIntervalMs, maxQueue: config.maxQueue, logger, hooks });
    case 'postgres':
      return new PostgresLedger({ url: config.url, table: config.table, flushIntervalMs: config.flushIntervalMs, maxQueue: config.maxQueue, spillDir: config.spillDir, logger, hooks });
    case 'none':
      return { write() {}, flush: async () => {}, close: async () => {}, queueDepth: () => 0 };
  }
}
