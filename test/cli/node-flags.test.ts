// The V8 flags the gateway is tuned with: detected on the command line or in NODE_OPTIONS, and the
// same list wherever the gateway is launched (the container's CMD, npm start).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GATEWAY_NODE_FLAGS, missingNodeFlags, warnMissingNodeFlags } from '../../src/cli/node-flags.js';

describe('missingNodeFlags', () => {
  it('finds the flags by name on the command line or in NODE_OPTIONS, whatever their value or spelling', () => {
    expect(missingNodeFlags([], '')).toEqual([...GATEWAY_NODE_FLAGS]);
    expect(missingNodeFlags(['--max-semi-space-size=32', '--no-allocation-site-pretenuring', '--heap-growing-percent=50'], '')).toEqual([]);
    expect(missingNodeFlags(['--import', 'tsx'], '--max_semi_space_size=64  --trace-gc --no_allocation_site_pretenuring --heap_growing_percent=100')).toEqual([]);
    expect(missingNodeFlags(['--max-semi-space-size=32', '--heap-growing-percent=100'], '--trace-gc')).toEqual(['--no-allocation-site-pretenuring']);
    expect(missingNodeFlags(['--max-old-space-size=4096'], '--trace-gc')).toEqual(['--max-semi-space-size=64', '--no-allocation-site-pretenuring', '--heap-growing-percent=100']);
    expect(missingNodeFlags([...GATEWAY_NODE_FLAGS], '')).toEqual([]);
  });

  it('writes one hint naming what is missing, and nothing when all are given', () => {
    const lines: string[] = [];
    const before = process.execArgv;
    warnMissingNodeFlags((l) => lines.push(l));
    const expected = missingNodeFlags(before);
    if (expected.length === 0) expect(lines).toEqual([]);
    else expect(lines).toEqual([expect.stringContaining(`running without ${expected.join(' ')}`)]);
  });
});

describe('where the gateway is launched', () => {
  it('the container runs it with every flag', () => {
    const cmd = /^CMD \[(.*)\]$/m.exec(readFileSync('Dockerfile', 'utf8'))?.[1];
    const args = JSON.parse(`[${cmd}]`) as string[];
    expect(args.slice(0, 1 + GATEWAY_NODE_FLAGS.length)).toEqual(['node', ...GATEWAY_NODE_FLAGS]);
    expect(args.slice(-2)).toEqual(['dist/cli/main.js', 'serve']);
  });

  it('npm start runs the demo with every flag', () => {
    const start = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
    for (const flag of GATEWAY_NODE_FLAGS) expect(start).toContain(flag);
  });
});
