import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const cli = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...process.env, STATEROUTE_CONFIG: '' } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe('stateroute check', () => {
  it('exits 0 on the demo config', async () => {
    const r = await cli(['check', '--config', 'config/stateroute.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok: config\/stateroute\.yaml — 2 backend\(s\)/);
  });

  it('exits 1 with file, line and field on a bad config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'auth: { mode: none }\nbackends:\n  azure:\n    type: azure-openai\n    endpoint: https://r.openai.azure.com\n    apiKey: k\n');
    const r = await cli(['check', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`backends.azure.apiVersion: required, e.g. "2024-10-21" (${file}:3)`);
  });

  it('exits 2 with usage when --config is missing', async () => {
    const r = await cli(['check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--config FILE/);
  });
});
