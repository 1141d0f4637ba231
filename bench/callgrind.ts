// What the callgrind benchmarks (instructions.ts, history-instructions.ts) share: valgrind's
// arguments and reading the totals of its newest dump.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function requireValgrind(): void {
  if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('valgrind is not installed (apt-get install -y valgrind)');
}

/** callgrind counting per thread, dumps as `<outDir>/cg.out.<dump>-<thread>`. */
export const callgrindArgs = (outDir: string): string[] => ['--tool=callgrind', '--smc-check=all-non-file', '--separate-threads=yes', '--dump-instr=no', '--collect-jumps=no', `--callgrind-out-file=${join(outDir, 'cg.out')}`];

/** Instructions in the newest dump in dir: the main thread's and all threads'. With
 * --separate-threads a dump is one file per thread, `cg.out.<dump>-<thread>`; thread 01 is main. */
export function lastTotals(dir: string): { main: number; all: number } {
  const files = readdirSync(dir).map((f) => /^cg\.out\.(\d+)-(\d+)$/.exec(f)).filter((m): m is RegExpExecArray => m !== null);
  const last = Math.max(...files.map((m) => Number(m[1])));
  let main = 0;
  let all = 0;
  for (const m of files.filter((f) => Number(f[1]) === last)) {
    const total = /^(?:totals|summary): (\d+)/m.exec(readFileSync(join(dir, m[0]), 'utf8'));
    if (!total) throw new Error(`no totals in ${m[0]}`);
    all += Number(total[1]);
    if (Number(m[2]) === 1) main = Number(total[1]);
  }
  return { main, all };
}
