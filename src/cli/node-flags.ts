// The V8 heap settings the gateway runs with (Dockerfile CMD, `npm start`, the benchmark). Node's
// defaults suit a short script; a gateway allocates ~50 KB per request that lives a millisecond or
// two, and keeps ~30 MB of code and config for good:
// - --max-semi-space-size=64 (MB; Node 20's ceiling is 16): the young generation is collected
//   ~4× less often, so fewer in-flight requests' objects are copied and promoted at each collection.
// - --initial-old-space-size=256 (MB): the first full collection waits until the old generation
//   reaches 256 MB, and V8 keeps that as the floor of its later limits. With the default the limit
//   sits at ~1.3× the live 30 MB, so under load a full mark-compact ran every ~2 s, and each one
//   stalled the event loop for 15–35 ms: the whole p99 tail at equal load (bench/README.md).
// The cost is memory: the heap may hold up to ~256 MB of garbage before it is collected (plus
// 128 MB of young generation at the peak), so give the container ≥ 512 MB, or lower the second flag.
// https://nodejs.org/api/cli.html#--max-semi-space-sizesize-in-mib
// https://v8.dev/blog/trash-talk
export const GATEWAY_NODE_FLAGS = ['--max-semi-space-size=64', '--initial-old-space-size=256'] as const;

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
