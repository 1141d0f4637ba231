// Instructions per stateful turn at 10 and at 500 messages of history, counted by valgrind's callgrind
// (`npx tsx bench/history-instructions.ts [DIST]`, after `npm run build`; ~8 min). The CPU-time figure
// (history-cpu.ts) moves with other load on the machine, and with the Bedrock simulator, whose own
// CPU per turn grows ~6× from 10 to 500 messages and shares the cores; instruction counts do not.
// They leave out kernel work (the body written to the socket, page faults), which CPU time includes.
// Same turns as history-cpu.ts: per length, SESSIONS sessions seeded with one full-history request
// (not counted), then 6 turns each sending only the new message, 4 at a time; counters are zeroed
// after the seeding and dumped after the turns. `main` is the event loop; `all` adds V8's helper
// threads (concurrent marking, compiler) and libuv's pool.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callgrindArgs, lastTotals, requireValgrind } from './callgrind.js';
import { ROOT, freePort, startChild } from './children.js';
import { history, lanes, LANES } from './history-cpu.js';
import { BENCH_KEY, benchConfigYaml } from './config.js';
import { median } from './load.js';
import { GATEWAY_NODE_FLAGS } from '../src/cli/node-flags.js';

const DIST = process.argv[2] ?? join(ROOT, 'dist');
// 50 sessions, not 100: under valgrind a turn takes ~50× longer.
const SESSIONS = 50;
const TURNS_EACH = 6;
const ROUNDS = 2;
const WARM = 2;
requireValgrind();
const work = mkdtempSync(join(tmpdir(), 'stateroute-history-instr-'));
const bedrock = await startChild('bedrock.ts');
const port = await freePort();
const configFile = join(work, 'gw.yaml');
writeFileSync(configFile, benchConfigYaml({ port, azureUrl: 'http://127.0.0.1:9', bedrockUrl: bedrock.url, ledgerDir: join(work, 'ledger'), store: { type: 'memory' } }));
const dir = mkdtempSync(join(work, 'cg-'));
const proc = spawn('valgrind', [...callgrindArgs(dir), process.execPath, ...GATEWAY_NODE_FLAGS, join(DIST, 'cli', 'main.js'), 'serve', '--config', configFile], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
const url = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) { try { if ((await fetch(`${url}/healthz`)).ok) break; } catch {} await new Promise((r) => setTimeout(r, 250)); if (i > 1200) throw new Error('not ready'); }
const agent = new Agent({ keepAlive: true, maxSockets: LANES });
function post(session: string, messages: unknown[]): Promise<void> {
  const body = JSON.stringify({ model: 'gpt-4o', messages });
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/chat/completions`, { method: 'POST', agent, headers: { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json', 'x-session-id': session } }, (res) => {
      res.on('data', () => {});
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const out: Record<string, { main: number[]; all: number[] }> = {};
async function phase(length: number, tag: string, measure: boolean) {
  const seed = history(length - 1);
  await lanes(SESSIONS, (i) => post(`${tag}-${i}`, seed));
  if (measure) spawnSync('callgrind_control', ['-z', String(proc.pid)]);
  const T = SESSIONS * TURNS_EACH;
  await lanes(T, (i) => post(`${tag}-${i % SESSIONS}`, [{ role: 'user', content: `One more question, number ${i}?` }]));
  if (measure) {
    spawnSync('callgrind_control', ['-d', String(proc.pid)]);
    const { main, all } = lastTotals(dir);
    (out[length] ??= { main: [], all: [] }).main.push(main / T);
    out[length].all.push(all / T);
    process.stderr.write(`${length}: ${(main / T / 1e6).toFixed(3)} M instr/turn main, ${(all / T / 1e6).toFixed(3)} M all\n`);
  }
}
try {
  for (let w = 0; w < WARM; w++) for (const l of [10, 500]) await phase(l, `w${w}-${l}`, false);
  for (let r = 0; r < ROUNDS; r++) for (const l of [10, 500]) await phase(l, `r${r}-${l}`, true);
  const main = (l: number) => median(out[l]!.main);
  const all = (l: number) => median(out[l]!.all);
  process.stderr.write(`instructions per stateful turn, main thread: ${(main(10) / 1e6).toFixed(3)} M at 10 messages, ${(main(500) / 1e6).toFixed(3)} M at 500 → ${(main(500) / main(10)).toFixed(2)}×; all threads ${(all(500) / all(10)).toFixed(2)}×\n`);
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  agent.destroy();
  proc.kill('SIGKILL');
  await bedrock.stop();
  rmSync(work, { recursive: true, force: true });
}
