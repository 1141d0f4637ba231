// Ledger file naming: usage-YYYY-MM-DD.jsonl, usage-YYYY-MM-DD.1.jsonl, … (UTC day of the write),
// spill-YYYY-MM-DD.jsonl for spilled records.

export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export const LEDGER_FILE = /^(usage|spill)-(\d{4}-\d{2}-\d{2})(?:\.(\d+))?\.jsonl$/;

export const usageFileName = (day: string, index: number): string => (index === 0 ? `usage-${day}.jsonl` : `usage-${day}.${index}.jsonl`);

export function parseLedgerFileName(name: string): { kind: 'usage' | 'spill'; day: string; index: number } | undefined {
  const m = LEDGER_FILE.exec(name);
  if (!m) return undefined;
  return { kind: m[1] as 'usage' | 'spill', day: m[2]!, index: m[3] ? Number(m[3]) : 0 };
}
