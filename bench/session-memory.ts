// Child: memory per idle in-memory session. Starts a gateway in this process (memory store, no
// ledger) in front of the Bedrock simulator given as argv[2], creates N one-turn sessions over HTTP,
// lets everything settle, and compares heapUsed after a full GC with the heap before. Content is
// the stored messages' JSON; everything else (hashes, arrays, the LRU node, the key) is overhead.
// Needs --expose-gc. Prints one JSON line.
import { parseConfig } from '../src/config/load.js';
import { startGateway } from '../src/gateway.js';
import { createLogger } from '../src/logger.js';
import { BENCH_KEY, benchConfigYaml } from './config.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('session-memory.ts needs node --expose-gc');
const bedrockUrl = process.argv[2]!;
const N = Number(process.argv[3] ?? 5000);
const HASH_LENGTH = (await import('../src/sessions/hash.js')).HASH_LENGTH;
const { MEMORY_ENTRY_OVERHEAD_BYTES } = await import('../src/config/sessions.js');

const yaml = benchConfigYaml({ port: 0, azureUrl: 'http://127.0.0.1:9', bedrockUrl, ledgerDir: '', store: { type: 'memory' } }).replace(
  /ledger: .*/,
  'ledger: { type: none }',
);
const gateway = await startGateway({ config: parseConfig(yaml, 'bench.yaml', {}), port: 0, logger: createLogger({ level: 'silent' }) });
const turn = (i: number) =>
  fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json', 'x-session-id': `idle-${i}` },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: `Session ${i}: remember the number ${i * 7}.` }] }),
  }).then(async (r) => {
    if (!r.ok) throw new Error(`turn ${i}: ${r.status} ${await r.text()}`);
    await r.arrayBuffer();
  });

const settle = async () => {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  return process.memoryUsage().heapUsed;
};
// Warm up every code path (and label caches) before the baseline.
for (let i = 0; i < 50; i++) await turn(-1 - i);
const before = await settle();
const storedBefore = await gateway.sessions.stats();
const CONCURRENCY = 16;
for (let i = 0; i < N; i += CONCURRENCY) await Promise.all(Array.from({ length: Math.min(CONCURRENCY, N - i) }, (_, j) => turn(i + j)));
const after = await settle();
const stats = await gateway.sessions.stats();
const sessions = (stats.sessions ?? 0) - (storedBefore.sessions ?? 0);
// stats.bytes = Σ (messages' JSON + one hash per message) + a fixed overhead per entry; two messages per session.
const contentBytes = (stats.bytes ?? 0) - (storedBefore.bytes ?? 0) - sessions * (MEMORY_ENTRY_OVERHEAD_BYTES + 2 * HASH_LENGTH);
const heapPerSession = (after - before) / sessions;
const contentPerSession = contentBytes / sessions;
process.stdout.write(
  `${JSON.stringify({ sessions, heapPerSession: Math.round(heapPerSession), contentPerSession: Math.round(contentPerSession), overheadPerSession: Math.round(heapPerSession - contentPerSession) })}\n`,
);
await gateway.stop(0);
process.exit(0);
