// The gateway's whole module graph, loaded as `stateroute serve` loads it, must leave the builtin
// prototypes with fast properties. One library that subclasses a builtin (ioredis 6 declares
// `class VerbatimString extends String`) turns String.prototype into a dictionary for the life of
// the process: every `s.indexOf(…)`, `s.slice(…)` and `s.charCodeAt(…)` anywhere (ours, Hono's,
// undici's, Node's) then goes through V8's generic property lookup. Callgrind measured that at
// ~70 k instructions of the ~540 k a streamed request costs (Builtins_LoadIC).
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const PROTOTYPES = ['String', 'Array', 'Object', 'Function', 'Promise', 'Map', 'Set', 'Uint8Array', 'Buffer', 'RegExp', 'Number', 'Error', 'Date'];

/** Runs `body` in a child with V8's natives syntax (for %HasFastProperties) and the TypeScript loader. */
function probe(body: string): Record<string, unknown> {
  const script = `
    const fast = () => Object.fromEntries(${JSON.stringify(PROTOTYPES)}.map((n) => [n, %HasFastProperties(globalThis[n].prototype)]));
    ${body}
  `;
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
}

describe('the gateway module graph', () => {
  it('leaves every builtin prototype with fast properties (and the probe sees a String subclass make them slow)', () => {
    const result = probe(`
      const before = fast();
      await import('./src/gateway.ts');
      await import('./src/cli/serve.ts');
      await import('./src/cli/workers.ts');
      const after = fast();
      class Probe extends String {}
      const control = %HasFastProperties(String.prototype);
      console.log(JSON.stringify({ before, after, control, probe: typeof Probe }));
    `);
    const all = Object.fromEntries(PROTOTYPES.map((n) => [n, true]));
    expect(result.before).toEqual(all);
    expect(result.after).toEqual(all);
    // The probe can fail: a String subclass declared after the imports is seen.
    expect(result.control).toBe(false);
  });
});
