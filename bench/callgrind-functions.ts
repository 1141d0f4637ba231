// Where a callgrind count went, per function, with JavaScript named: V8 writes each compiled
// function's address range to /tmp/perf-<pid>.map under --perf-basic-prof, and callgrind reports
// JIT code as bare addresses (`???:0x…`), so each is looked up there. For `instructions.ts
// --functions N`. Self cost (instructions spent in the function itself, not its callees).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

interface JitRange {
  start: number;
  end: number;
  name: string;
}

function readPerfMap(file: string): JitRange[] {
  const ranges: JitRange[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [start, size, ...name] = line.split(' ');
    if (!start || !size || name.length === 0) continue;
    const s = Number.parseInt(start, 16);
    ranges.push({ start: s, end: s + Number.parseInt(size, 16), name: name.join(' ') });
  }
  return ranges.sort((a, b) => a.start - b.start);
}

/** The range holding `address` (a later entry for a reused address wins: ranges are kept in order). */
function lookup(ranges: JitRange[], address: number): string | undefined {
  let lo = 0;
  let hi = ranges.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid]!.start <= address) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  const range = ranges[found];
  return range && address < range.end ? range.name : undefined;
}

/** The `top` functions of a callgrind dump by self cost, per request, JIT code named from `perfMap`. */
export function topFunctions(dump: string, perfMap: string, requests: number, top: number): string[] {
  const annotated = spawnSync('callgrind_annotate', ['--threshold=100', dump], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (annotated.status !== 0) throw new Error(`callgrind_annotate failed: ${annotated.stderr}`);
  const ranges = existsSync(perfMap) ? readPerfMap(perfMap) : [];
  const costs = new Map<string, number>();
  let total = 0;
  for (const line of annotated.stdout.split('\n')) {
    const m = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (!m) continue;
    const cost = Number(m[1]!.replaceAll(',', ''));
    let name = m[2]!.trim();
    if (name.startsWith('PROGRAM TOTALS')) {
      total = cost;
      continue;
    }
    const jit = /^\?\?\?:0x([0-9a-f]+)/.exec(name);
    if (jit) name = lookup(ranges, Number.parseInt(jit[1]!, 16)) ?? 'JIT code (not in the perf map)';
    else name = name.replace(/^[^:]*:/, '').replace(/\s*\[.*\]$/, '');
    costs.set(name, (costs.get(name) ?? 0) + cost);
  }
  // The frames every sample runs under (main, the event loop) show the whole count: not functions of interest.
  return [...costs]
    .filter(([, cost]) => cost < total * 0.99)
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, cost]) => `${String(Math.round(cost / requests)).padStart(9)}  ${name.slice(0, 140)}`);
}
