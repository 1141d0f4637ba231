// The per-request objects of the hot path share their hidden classes from one request to the next.
// A nested generator function, or fields added after a spread, made V8 build new maps for every
// request, in the old generation, which kept each streamed request's
// objects alive through young-generation GCs (bench/HISTORY.md). V8's %HaveSameMap tells, in a
// child process run with --allow-natives-syntax.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('./hidden-classes.script.ts', import.meta.url));

describe('hidden classes on the hot path', () => {
  it('two requests build their stream generators, results, bodies, headers, cancellations and loaded sessions on the same maps', () => {
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(JSON.parse(out)).toEqual({
      'azure stream generator': true,
      'bedrock stream generator': true,
      'stream result': true,
      'upstream request body': true,
      'response headers': true,
      cancellation: true,
      'signal cancellation': true,
      'stored session': true,
    });
  });
});
