// The V8 heap setting the gateway runs with (Dockerfile CMD, `npm start`, the benchmark). Node's
// young generation tops out at 16 MB per semi-space; a gateway allocates ~50 KB per request that
// lives a millisecond or two, so at a few thousand requests a second it was collected every ~100 ms,
// each time copying the objects of the requests in flight. --max-semi-space-size=64 (MB) collects it
// ~4× less often: 7–10 % less CPU per request (measured alternating with and without it, stateless
// 152 → 142 µs, streamed 237 → 214 µs). The cost is up to ~128 MB more young generation at the peak.
// (--initial-old-space-size=256 was tried too: it removed the full GCs that stalled the loop while
// the gateway still made hidden classes per request, but after that fix it only let RSS grow
// towards 256 MB and made p99 worse, 9–24 ms against 4–6 at 2600 req/s.)
// https://nodejs.org/api/cli.html#--max-semi-space-sizesize-in-mib
// https://v8.dev/blog/trash-talk
//
// --no-allocation-site-pretenuring: V8 allocates an object straight in the old generation when most
// objects from its allocation site were still alive at a scavenge (V8's "pretenuring"; its decisions
// show with --trace-pretenuring-statistics). A gateway's per-request objects are alive for a request's
// millisecond, and a scavenge that lands while many requests are in flight can tenure their sites:
// some gateway processes then ran in a mode where ~2 MB a scavenge went to the old generation
// (the heap after each scavenge grew by ~1.9–2.1 MB, scavenges paused 7 ms at the 90th percentile
// instead of 2, a full GC every few seconds), with window p99s of 17–38 ms at the streamed equal
// load, where processes of the same build not in the mode had 9–27 in the same (noisy) run. Two of
// nine processes with pretenuring ran that way and a third partly, none of eight without it; CPU per
// streamed request was no worse without it (88 and 104 µs against 94 and 106, alternating).
// Measured 2026-11-27 (README, Performance).
// https://v8.dev/blog/allocation-sites (pretenuring from allocation-site feedback)
//
// --heap-growing-percent=100: after each full GC, V8 sets the old generation's limit at twice what
// survived (instead of its own, smaller, factor). V8 starts marking the old generation once the room
// left under that limit comes down to about the young generation's capacity (heap.cc,
// IncrementalMarkingLimitReached; in the traces here marking began with 70–72 MB of room under a
// 64 MB semi-space, 36–37 MB under 32 MB), and a 64 MB semi-space makes that capacity large: with ~31 MB live
// and the default factor the limit was ~100 MB, marking started with ~70 MB of room, and under the
// streamed equal load the gateway ran a mark-compact every 0.4–4 s, about one a second of load. Each
// held the event loop for a 2–7 ms pause plus 2–14 ms of marking steps, and a 1 s window of the
// equal-load benchmark that held one had a p99 of 17–54 ms against ~4.7 without (2026-11-27,
// fifteenth machine: V8's trace matched with the windows' times; --max-semi-space-size=32 instead
// left one every ~8 s, in 9 of 60 windows). With the limit at twice the live heap, 2 of 60 windows
// held one. The gateway's median window p99 against the proxy's, in runs of 20 windows each, before:
// 4.7 / 3.4, 19.5 / 3.7, 18.9 / 3.8, 4.9 / 3.9, 17.7 / 3.7, 17.2 / 4.4, 12.1 / 3.8 and 18.3 / 3.7 ms
// (and 58.7 / 12.0 in a run whose client had 7 mark-compacts of its own); with it: 4.4 / 3.5,
// 4.5 / 3.8 and 5.2 / 4.2. The cost is an old generation that grows to ~2× its live size between
// full GCs. A fresh gateway under a 10-minute streamed soak held about the same RSS as with the old
// flags; one that had run the whole benchmark first moved between 391 and 581 MiB, and the old flags
// were not measured that way (README, Performance).
// https://v8.dev/blog/concurrent-marking (when V8 marks)
export const GATEWAY_NODE_FLAGS = ['--max-semi-space-size=64', '--no-allocation-site-pretenuring', '--heap-growing-percent=100'] as const;

const flagName = (arg: string) => arg.split('=')[0]!.replace(/_/g, '-');

/** The flags of GATEWAY_NODE_FLAGS (by name, whatever their value) this process was started without. */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].filter((a) => a.startsWith('--')).map(flagName));
  return GATEWAY_NODE_FLAGS.filter((flag) => !given.has(flagName(flag)));
}

/** One line on stderr when the process runs without them: a hint, not an error. */
export function warnMissingNodeFlags(write: (line: string) => void = (line) => process.stderr.write(line)): void {
  const missing = missingNodeFlags();
  if (missing.length > 0)
    write(`stateroute: running without ${missing.join(' ')}; the gateway is tuned and measured with them (README, Performance): node ${GATEWAY_NODE_FLAGS.join(' ')} dist/cli/main.js serve\n`);
}
