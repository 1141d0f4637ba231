// `stateroute report`: totals from the usage ledger per backend, model, tenant or route: requests,
// tokens by type, actual cost, counterfactual cost (the same traffic on the other backend) and the
// difference. Sums are exact (integer pico-dollars). Money: table rounds to 6 decimals; csv and
// json carry the exact decimal (json as strings, so no float rounding creeps in).
//
// difference = counterfactual − actual, over the requests where both are known (positive: the
// other side would have cost more). Requests with an unknown price are counted in `unpriced`
// (actual unknown) and `noCounterfactual` (no equivalent or its price unknown).
import { readLedger } from '../metering/ledger/read.js';
import type { LedgerRecord } from '../metering/ledger/types.js';
import { picoToUsdString, roundUsd, usdToPico, type Pico } from '../metering/money.js';

export type ReportGroupBy = 'backend' | 'model' | 'tenant' | 'route';
export type ReportFormat = 'table' | 'csv' | 'json';

export interface Writable {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export interface ReportOptions {
  /** A ledger directory or file, or a postgres:// URL (`#table` to name the table). */
  ledger: string;
  /** '24h', '7d', '30m', '90s', or an ISO 8601 time. Default: everything. */
  since?: string;
  by?: ReportGroupBy;
  format?: ReportFormat;
  out: Writable;
  err: Writable;
  /** Clock for relative `since` (tests). */
  now?: () => number;
  /** How often the progress line updates while reading (default 500 ms). */
  progressIntervalMs?: number;
}

interface Group {
  key: string;
  requests: number;
  errors: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  actual: Pico;
  counterfactual: Pico;
  /** Σ (counterfactual − actual) over requests where both are known. */
  difference: Pico;
  unpriced: number;
  noCounterfactual: number;
}

const GROUPS: ReportGroupBy[] = ['backend', 'model', 'tenant', 'route'];
const FORMATS: ReportFormat[] = ['table', 'csv', 'json'];

export function parseSince(since: string, now: number): Date {
  const rel = /^(\d+)\s*(s|m|h|d|w)$/.exec(since.trim());
  if (rel) {
    const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 }[rel[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return new Date(now - Number(rel[1]) * unit);
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(since)) {
    const t = Date.parse(since);
    if (!Number.isNaN(t)) return new Date(t);
  }
  throw new RangeError(`--since must be a duration like 24h, 7d, 30m, 90s or an ISO time like 2026-01-31T00:00:00Z, got "${since}"`);
}

const keyOf = (r: LedgerRecord, by: ReportGroupBy): string => {
  switch (by) {
    case 'backend':
      return r.backend || '(none)';
    case 'model':
      return r.modelAnswered || r.modelRequested || '(none)';
    case 'tenant':
      return r.tenant;
    case 'route':
      return r.route || '(none)';
  }
};

const emptyGroup = (key: string): Group => ({ key, requests: 0, errors: 0, input: 0, output: 0, cacheRead: 0, cacheWrite: 0, actual: 0n, counterfactual: 0n, difference: 0n, unpriced: 0, noCounterfactual: 0 });

function add(g: Group, r: LedgerRecord) {
  g.requests++;
  if (r.status >= 400) g.errors++;
  g.input += r.tokens.input;
  g.output += r.tokens.output;
  g.cacheRead += r.tokens.cacheRead;
  g.cacheWrite += r.tokens.cacheWrite;
  const a = r.costUsd === null ? undefined : usdToPico(r.costUsd);
  const c = r.counterfactualCostUsd === null ? undefined : usdToPico(r.counterfactualCostUsd);
  if (a === undefined) g.unpriced++;
  else g.actual += a;
  if (c === undefined) g.noCounterfactual++;
  else g.counterfactual += c;
  if (a !== undefined && c !== undefined) g.difference += c - a;
}

function merge(total: Group, g: Group) {
  for (const k of ['requests', 'errors', 'input', 'output', 'cacheRead', 'cacheWrite', 'unpriced', 'noCounterfactual'] as const) total[k] += g[k];
  total.actual += g.actual;
  total.counterfactual += g.counterfactual;
  total.difference += g.difference;
}

/** Returns the process exit code: 0 done, 1 the ledger could not be read, 2 bad arguments. */
export async function reportCommand(options: ReportOptions): Promise<number> {
  const { out, err } = options;
  const by = options.by ?? 'backend';
  const format = options.format ?? 'table';
  if (!GROUPS.includes(by)) return usage(err, `--by must be one of ${GROUPS.join(', ')}, got "${by}"`);
  if (!FORMATS.includes(format)) return usage(err, `--format must be one of ${FORMATS.join(', ')}, got "${format}"`);
  let since: Date | undefined;
  try {
    since = options.since === undefined ? undefined : parseSince(options.since, (options.now ?? Date.now)());
  } catch (e) {
    return usage(err, (e as Error).message);
  }

  const groups = new Map<string, Group>();
  let read = 0;
  let bad = 0;
  let lastProgress = Date.now();
  let progressShown = false;
  const interval = options.progressIntervalMs ?? 500;
  const progress = (final: boolean) => {
    const text = `reading ledger: ${read.toLocaleString('en-US')} records${bad ? `, ${bad} unreadable lines skipped` : ''}`;
    if (err.isTTY) err.write(`\r${text}${final ? '\n' : ''}`);
    else err.write(`${text}\n`);
    progressShown = true;
  };
  try {
    for await (const r of readLedger(options.ledger, { since, onBadLine: () => bad++ })) {
      read++;
      const key = keyOf(r, by);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = emptyGroup(key)));
      add(g, r);
      if ((read & 1023) === 0 && Date.now() - lastProgress >= interval) {
        lastProgress = Date.now();
        progress(false);
      }
    }
  } catch (e) {
    if (progressShown && err.isTTY) err.write('\n');
    err.write(`stateroute report: cannot read the ledger ${redact(options.ledger)}: ${(e as Error).message}\n`);
    return 1;
  }
  if (progressShown) progress(true);
  if (bad > 0 && !progressShown) err.write(`stateroute report: skipped ${bad} unreadable line(s) (a torn last line after a crash is expected)\n`);

  const rows = [...groups.values()].sort((a, b) => a.key.localeCompare(b.key));
  const total = emptyGroup('TOTAL');
  for (const g of rows) merge(total, g);
  out.write(render(format, by, rows, total, since));
  return 0;
}

export const REPORT_USAGE = `usage: stateroute report --ledger DIR|FILE|postgres://… [--since 24h|7d|ISO] [--by backend|model|tenant|route] [--format table|csv|json]
  --ledger   a JSONL ledger directory or file, or a PostgreSQL URL (append #table for a non-default table)
  --since    relative (90s, 30m, 24h, 7d, 2w) or an ISO time; default 24h
  --by       grouping; default backend
  --format   default table
`;

/** `stateroute report` from argv (the words after "report"): parses flags and runs reportCommand. */
export async function reportMain(argv: string[], io: { out: Writable; err: Writable; now?: () => number }): Promise<number> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') {
      io.out.write(REPORT_USAGE);
      return 0;
    }
    const m = /^--(ledger|since|by|format)(?:=(.*))?$/.exec(arg);
    if (!m) return usage(io.err, `unknown argument "${arg}"\n${REPORT_USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === '') return usage(io.err, `--${m[1]} needs a value\n${REPORT_USAGE}`);
    flags[m[1]!] = value;
  }
  if (!flags.ledger) return usage(io.err, `--ledger is required\n${REPORT_USAGE}`);
  return reportCommand({
    ledger: flags.ledger,
    since: flags.since ?? '24h',
    by: flags.by as ReportGroupBy | undefined,
    format: flags.format as ReportFormat | undefined,
    out: io.out,
    err: io.err,
    ...(io.now ? { now: io.now } : {}),
  });
}

function usage(err: Writable, message: string): number {
  err.write(`stateroute report: ${message}\n`);
  return 2;
}

const redact = (source: string) => source.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:[REDACTED]@');

function render(format: ReportFormat, by: ReportGroupBy, rows: Group[], total: Group, since: Date | undefined): string {
  if (format === 'json') {
    const row = (g: Group) => ({
      [by]: g.key,
      requests: g.requests,
      errors: g.errors,
      tokens: { input: g.input, output: g.output, cacheRead: g.cacheRead, cacheWrite: g.cacheWrite },
      actualUsd: picoToUsdString(g.actual),
      counterfactualUsd: picoToUsdString(g.counterfactual),
      differenceUsd: picoToUsdString(g.difference),
      unpriced: g.unpriced,
      noCounterfactual: g.noCounterfactual,
    });
    return JSON.stringify({ since: since?.toISOString() ?? null, by, groups: rows.map(row), total: row(total) }, null, 2) + '\n';
  }
  const header = [by, 'requests', 'errors', 'input', 'output', 'cache_read', 'cache_write', 'actual_usd', 'counterfactual_usd', 'difference_usd', 'unpriced', 'no_counterfactual'];
  const cells = (g: Group, money: (p: Pico) => string) => [g.key, g.requests, g.errors, g.input, g.output, g.cacheRead, g.cacheWrite, money(g.actual), money(g.counterfactual), money(g.difference), g.unpriced, g.noCounterfactual].map(String);
  if (format === 'csv') {
    const esc = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    return [header, ...rows.map((g) => cells(g, (p) => picoToUsdString(p))), cells(total, (p) => picoToUsdString(p))].map((r) => r.map(esc).join(',')).join('\n') + '\n';
  }
  const table = [header, ...rows.map((g) => cells(g, (p) => roundUsd(p, 6))), cells(total, (p) => roundUsd(p, 6))];
  const widths = header.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const body = table.slice(1, -1).map(line);
  return [line(header), rule, ...body, rule, line(table.at(-1)!)].join('\n') + `\n${since ? `since ${since.toISOString()}; ` : ''}difference = counterfactual − actual where both are known\n`;
}
