// Gateway CPU per stateful turn at 10 and at 500 messages of history (memory store, Bedrock
// simulator). For each length, 100 sessions are seeded with one full-history request, then each
// gets 6 more turns that send only the new message, 4 at a time on distinct sessions; the gateway's
// own process_cpu_seconds_total before and after, divided by the turns, is the cost of a turn.
// Six turns each and three rounds: with two and two the 500-message figure spread by ±25 %
// between runs (major GCs land in some rounds and not others).
// Lengths alternate (10, 500, 10, 500) and the medians are compared.
import { BENCH_KEY } from './config.js';
import { median } from './load.js';
import { scrape } from './metrics.js';

const SESSIONS = 100;
const TURNS_EACH = 6;
export const LANES = 4;
const headers = (session: string) => ({ authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json', 'x-session-id': session });

async function post(url: string, session: string, messages: unknown[]): Promise<void> {
  const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: headers(session), body: JSON.stringify({ model: 'gpt-4o', messages }) });
  if (!r.ok) throw new Error(`turn on ${session}: ${r.status} ${await r.text()}`);
  await r.arrayBuffer();
}

/** `n` stored messages of a conversation, user and assistant alternating (history-instructions.ts too). */
export const history = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    i % 2 === 0
      ? { role: 'user', content: `Question ${i / 2}: what else should I know about the quick brown fox and the lazy dog?` }
      : { role: 'assistant', content: `Answer ${(i - 1) / 2}: the fox is quick, the dog is lazy, and the gateway keeps the history.` },
  );

/** `work(0…count-1)`, LANES at a time. */
export async function lanes(count: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: LANES }, async () => {
    while (next < count) await work(next++);
  }));
}

async function cpuPerTurn(url: string, length: number, tag: string): Promise<number> {
  // length - 1 messages sent (ending with a user turn) + the reply = `length` stored.
  const seed = history(length - 1);
  await lanes(SESSIONS, (i) => post(url, `${tag}-${i}`, seed));
  const before = await scrape(url, 'process_cpu_seconds_total');
  await lanes(SESSIONS * TURNS_EACH, (i) => post(url, `${tag}-${i % SESSIONS}`, [{ role: 'user', content: `One more question, number ${i}?` }]));
  const after = await scrape(url, 'process_cpu_seconds_total');
  return ((after - before) * 1000) / (SESSIONS * TURNS_EACH);
}

export async function historyCpu(options: { url: string; log: (s: string) => void; rounds?: number }) {
  const at10: number[] = [];
  const at500: number[] = [];
  await cpuPerTurn(options.url, 10, `cpu-warm-${process.pid}`);
  for (let round = 0; round < (options.rounds ?? 3); round++) {
    at10.push(await cpuPerTurn(options.url, 10, `cpu10-${process.pid}-${round}`));
    at500.push(await cpuPerTurn(options.url, 500, `cpu500-${process.pid}-${round}`));
    options.log(`  history CPU round ${round + 1}: ${at10.at(-1)!.toFixed(3)} ms/turn at 10, ${at500.at(-1)!.toFixed(3)} ms/turn at 500`);
  }
  const a = median(at10);
  const b = median(at500);
  return { at10: a, at500: b, ratio: b / a, runs: { at10, at500 } };
}
