// Instructions the Azure stream translator spends per stream of the benchmark's 24 events, counted
// alone under callgrind: N streams and 2N streams, the difference divided by N (start-up and
// warm-up cancel out), with its costliest functions, JavaScript named from V8's perf map. For an A/B
// of a change to src/backends/azure/stream.ts or src/streaming/ (build first: `npm run build`).
// `npx tsx bench/translator.ts [--dist DIR] [--streams N] [--functions K]`. The garbage collector's
// share moves with where scavenges fall: compare the per-function figures, not only the total.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { requireValgrind } from './callgrind.js';
import { topFunctions } from './callgrind-functions.js';
import { ROOT } from './children.js';
import { benchStream } from './stream-fixture.js';

const { values } = parseArgs({ options: { dist: { type: 'string', default: join(ROOT, 'dist') }, streams: { type: 'string', default: '3000' }, functions: { type: 'string', default: '25' } } });
const N = Number(values.streams);
requireValgrind();

const work = mkdtempSync(join(tmpdir(), 'stateroute-translator-'));
const streamFile = join(work, 'stream.sse');
writeFileSync(streamFile, benchStream(1_764_000_000));
// No loader or tsx variables in the child (see translator-child.mjs).
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !k.startsWith('TSX')));

function count(streams: number): { total: number; functions: Map<string, number> } {
  const out = join(work, `cg.${streams}`);
  const run = spawnSync(
    'valgrind',
    ['--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${out}`, process.execPath, '--single-threaded', '--perf-basic-prof', join(ROOT, 'bench', 'translator-child.mjs'), values.dist, streamFile, String(streams)],
    { cwd: ROOT, env, encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`the translator child failed: ${run.stderr.slice(-2000)}`);
  const { chunks } = JSON.parse(run.stdout.trim()) as { chunks: number };
  if (chunks !== streams * 22) throw new Error(`expected ${streams * 22} chunks, got ${chunks}`);
  const pid = /^pid: (\d+)/m.exec(readFileSync(out, 'utf8').slice(0, 4000))![1];
  const perfMap = `/tmp/perf-${pid}.map`;
  const functions = new Map<string, number>();
  for (const line of topFunctions(out, perfMap, 1, 100_000)) {
    const m = /^\s*(\d+)  (.*)$/.exec(line)!;
    functions.set(m[2]!, Number(m[1]));
  }
  const total = Number(/^(?:totals|summary): (\d+)/m.exec(readFileSync(out, 'utf8'))![1]);
  rmSync(perfMap, { force: true });
  return { total, functions };
}

try {
  const a = count(N);
  const b = count(2 * N);
  process.stdout.write(`translator: ${((b.total - a.total) / N / 1000).toFixed(1)} k instructions per stream (${2 * N} minus ${N} streams)\n`);
  const rows = [...new Set([...a.functions.keys(), ...b.functions.keys()])]
    .map((name) => [name, ((b.functions.get(name) ?? 0) - (a.functions.get(name) ?? 0)) / N] as const)
    .sort((x, y) => y[1] - x[1])
    .slice(0, Number(values.functions));
  for (const [name, perStream] of rows) process.stdout.write(`${String(Math.round(perStream)).padStart(8)}  ${name.slice(0, 120)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
