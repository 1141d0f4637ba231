// Public surface of metering for the server and the CLI.
export { createMeter, type Meter, type MeterRecordInput } from './meter.js';
export { createMetrics, type Metrics, type RequestObservation } from './metrics.js';
export { createPriceTable, DEFAULT_PRICES, type Price, type PriceTable } from './prices.js';
export { computeCost, createEquivalents, type CostResult } from './cost.js';
export { createLedger, readLedger, JsonlLedger, PostgresLedger, type LedgerRecord, type LedgerSink, type ReadLedgerOptions, copyLedger } from './ledger/index.js';
