// --soak MIN: steady streamed stateless load for MIN minutes (bounded), sampling the gateway's RSS
// every 10 s from /proc. Flat means the last third's mean is within 10% of the first third's.
import { readFileSync } from 'node:fs';
import { load } from './load.js';

const rssOf = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
};

export async function soak(options: { url: string; minutes: number; pid: number; body: string; headers: Record<string, string>; log: (s: string) => void }) {
  const minutes = Math.min(Math.max(options.minutes, 0.5), 60);
  const samples: { s: number; rssMiB: number }[] = [];
  const started = Date.now();
  const sample = () => samples.push({ s: Math.round((Date.now() - started) / 1000), rssMiB: Math.round((rssOf(options.pid) / 1048576) * 10) / 10 });
  sample();
  const timer = setInterval(() => {
    sample();
    options.log(`  soak ${samples.at(-1)!.s} s: RSS ${samples.at(-1)!.rssMiB} MiB`);
  }, 10_000);
  const run = await load({ url: `${options.url}/v1/chat/completions`, connections: 16, durationS: Math.round(minutes * 60), headers: options.headers, body: options.body });
  clearInterval(timer);
  sample();
  const third = Math.max(1, Math.floor(samples.length / 3));
  const mean = (xs: { rssMiB: number }[]) => xs.reduce((s, x) => s + x.rssMiB, 0) / xs.length;
  const first = mean(samples.slice(1, 1 + third));
  const last = mean(samples.slice(-third));
  return { minutes, rps: run.rps, failures: run.non2xx + run.errors, firstThirdMiB: first, lastThirdMiB: last, growth: last / first, flat: last / first <= 1.1, samples };
}
