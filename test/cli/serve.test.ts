// `stateroute serve` as a real process: SIGTERM stops accepting, lets an in-flight stream finish,
// flushes the ledger and exits 0.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzureSimulator, type AzureSimulator } from '../../src/simulators/azure/index.js';

let azure: AzureSimulator;
beforeAll(async () => {
  azure = await startAzureSimulator({ apiKey: 'k', deployments: { d: 'gpt-4o-2024-08-06' } });
});
afterAll(() => azure.close());

function startServe(configFile: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const ready = new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, ready, exited, output: () => out };
}

describe('stateroute serve', () => {
  it('SIGTERM drains an in-flight stream, flushes the ledger, exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-serve-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(
      file,
      `listen: { host: 127.0.0.1, port: 0 }
auth: { keys: [ { name: t, tenant: t, key: sk-serve-test-0123456789 } ] }
backends:
  azure: { type: azure-openai, endpoint: "${azure.url}", apiKey: k, apiVersion: "2024-10-21", deployments: { gpt-4o: d } }
metering: { ledger: { type: jsonl, dir: "${join(dir, 'ledger')}" } }
`,
    );
    const serve = startServe(file);
    const url = await serve.ready;
    azure.faults.push({ delayBetweenChunksMs: 150 });
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-serve-test-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'a slow story' }] }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    serve.child.kill('SIGTERM');
    let text = '';
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    expect(text.trim().endsWith('data: [DONE]')).toBe(true);
    expect(await serve.exited).toBe(0);
    const ledger = readdirSync(join(dir, 'ledger')).map((f) => readFileSync(join(dir, 'ledger', f), 'utf8')).join('');
    const records = ledger.trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 200, backend: 'azure', stream: true });
    // Started without the tuned V8 flags: serve says so, once (src/cli/node-flags.ts).
    expect(serve.output().match(/running without --max-semi-space-size=64 --no-allocation-site-pretenuring --heap-growing-percent=100;/g)).toHaveLength(1);
  });
});
