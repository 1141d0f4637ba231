// Gateway CPU per stateful turn at 10 and at 500 messages of history (memory store, Bedrock
// simulator). For each length, 100 sessions are seeded with one full-history request, then each
// gets 6 more turns that send only the new message; the gateway's own process_cpu_seconds_total
// before and after, divided by the turns, is the cost of a turn. Six turns each and three rounds:
// with two and two the 500-message figure spread by ±25 % between runs (major GCs land in some
// rounds and not others). Lengths alternate (10, 500, 10, 500) and the medians are compared.
//
// The target is compared with both lengths at one offered rate (open-loop, three quarters of the
// slower length's closed-loop rate in the same round), not each as fast as it goes. A request's
// CPU depends on the load (at a lower rate fewer requests share each wake-up of the event loop:
// each epoll round, microtask drain, timer and write), and closed-loop the 500-message rounds ran
// at ~40–80 % of the 10-message rate because the Bedrock simulator's own work per turn grows ~6×
// with the history on the same two cores. Measured 2026-11-27 (eighth machine, scratch harness,
// warm): 10-message turns took 0.95–1.3 ms of gateway CPU at 630–890 turns/s and 1.65–2.35 ms at 250;
// closed-loop, 500 against 10 came out 1.42–1.51× with the gateway pinned to its own core and
// 1.05–1.48× unpinned, at one rate (250–270 turns/s) 0.88–1.20×. The closed-loop runs still count,
// as the rate probe and for the record.
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

/** `work(0…count-1)`, one started every 1/rate s whatever the others do (open-loop); rejects with
 * the first failure once all have settled. */
async function paced(count: number, rate: number, work: (i: number) => Promise<void>): Promise<void> {
  const start = performance.now();
  const running: Promise<void>[] = [];
  let failure: { error: unknown } | undefined;
  for (let i = 0; i < count; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    // Caught at once: a turn failing while later ones are still being started would otherwise be an
    // unhandled rejection and end the run without stopping its children.
    running.push(work(i).catch((error: unknown) => void (failure ??= { error })));
  }
  await Promise.all(running);
  if (failure) throw failure.error;
}

interface TurnCost {
  /** Gateway CPU per turn, ms. */
  ms: number;
  turnsPerS: number;
}

/** `rate` undefined: LANES turns at a time, as fast as they go. */
async function cpuPerTurn(url: string, length: number, tag: string, rate?: number): Promise<TurnCost> {
  // length - 1 messages sent (ending with a user turn) + the reply = `length` stored.
  const seed = history(length - 1);
  await lanes(SESSIONS, (i) => post(url, `${tag}-${i}`, seed));
  const count = SESSIONS * TURNS_EACH;
  // Turn i goes to session i % SESSIONS: a session's turns are SESSIONS/rate s apart, never overlapping.
  const turn = (i: number) => post(url, `${tag}-${i % SESSIONS}`, [{ role: 'user', content: `One more question, number ${i}?` }]);
  const before = await scrape(url, 'process_cpu_seconds_total');
  const started = performance.now();
  await (rate === undefined ? lanes(count, turn) : paced(count, rate, turn));
  const seconds = (performance.now() - started) / 1000;
  const after = await scrape(url, 'process_cpu_seconds_total');
  return { ms: ((after - before) * 1000) / count, turnsPerS: count / seconds };
}

const summary = (at10: TurnCost[], at500: TurnCost[]) => {
  const a = median(at10.map((c) => c.ms));
  const b = median(at500.map((c) => c.ms));
  return { at10: a, at500: b, ratio: b / a, turnsPerS: { at10: median(at10.map((c) => c.turnsPerS)), at500: median(at500.map((c) => c.turnsPerS)) }, runs: { at10, at500 } };
};

export async function historyCpu(options: { url: string; log: (s: string) => void; rounds?: number }) {
  const { url, log } = options;
  const tag = (kind: string, round: number) => `cpu${kind}-${process.pid}-${round}`;
  // Warm-up: the stateful path's code keeps getting faster over the first few thousand turns (a
  // fresh gateway's 10-message turns, closed-loop, after 1200 turns: 1.7, 1.2, 1.0 ms in three rounds).
  for (let i = 0; i < 2; i++) {
    await cpuPerTurn(url, 10, tag('warm10', i));
    await cpuPerTurn(url, 500, tag('warm500', i));
  }
  const closed = { at10: [] as TurnCost[], at500: [] as TurnCost[] };
  const even = { at10: [] as TurnCost[], at500: [] as TurnCost[] };
  const rates: number[] = [];
  const f = (c: TurnCost) => `${c.ms.toFixed(3)} ms (${c.turnsPerS.toFixed(0)}/s)`;
  for (let round = 0; round < (options.rounds ?? 3); round++) {
    closed.at10.push(await cpuPerTurn(url, 10, tag('c10', round)));
    closed.at500.push(await cpuPerTurn(url, 500, tag('c500', round)));
    // Three quarters of what the slower length just carried: a rate both carry, near enough to
    // capacity that the per-wake-up costs do not swamp the per-turn ones.
    const rate = Math.max(10, Math.round(Math.min(closed.at10.at(-1)!.turnsPerS, closed.at500.at(-1)!.turnsPerS) * 0.75));
    rates.push(rate);
    even.at10.push(await cpuPerTurn(url, 10, tag('r10', round), rate));
    even.at500.push(await cpuPerTurn(url, 500, tag('r500', round), rate));
    log(`  history CPU round ${round + 1}: at ${rate} turns/s ${even.at10.at(-1)!.ms.toFixed(3)} ms at 10, ${even.at500.at(-1)!.ms.toFixed(3)} ms at 500 | closed-loop ${f(closed.at10.at(-1)!)} at 10, ${f(closed.at500.at(-1)!)} at 500`);
  }
  return { rate: median(rates), ...summary(even.at10, even.at500), closedLoop: summary(closed.at10, closed.at500) };
}
