// Child processes of the benchmark: helpers run a TypeScript entry under tsx, the gateway runs from dist/.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface Child {
  proc: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

function stopper(proc: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      proc.once('exit', () => (clearTimeout(timer), resolve()));
      proc.kill('SIGTERM');
    });
}

/** Starts `bench/<entry>` and waits for its `{"url": …}` line. */
export async function startChild(entry: string, args: string[] = [], nodeArgs: string[] = []): Promise<Child> {
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(ROOT, 'bench', entry), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! });
    lines.once('line', (line) => {
      try {
        resolve((JSON.parse(line) as { url: string }).url);
      } catch {
        reject(new Error(`${entry}: unexpected first line ${line}`));
      }
    });
    proc.once('exit', (code) => reject(new Error(`${entry} exited with ${code} before it was ready`)));
  });
  return { proc, url, stop: stopper(proc) };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** `stateroute serve --config FILE` from the compiled build (dist/, as the container runs it; under
 * tsx the same code costs measurably more CPU per request); resolves once /healthz answers. */
export async function startGatewayChild(options: { configFile: string; port: number; nodeArgs?: string[]; extraArgs?: string[]; env?: NodeJS.ProcessEnv; logFile?: string; entry?: string | undefined }): Promise<Child> {
  const entry = options.entry ? join(options.entry, 'cli', 'main.js') : join(ROOT, 'dist', 'cli', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build first (npm run build; npm run bench does)`);
  const out = options.logFile ? openSync(options.logFile, 'a') : 'inherit';
  const proc = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), entry, 'serve', '--config', options.configFile, ...(options.extraArgs ?? [])],
    { cwd: ROOT, stdio: ['ignore', out, out], env: options.env ?? process.env },
  );
  const url = `http://127.0.0.1:${options.port}`;
  let exited: number | null | undefined;
  proc.once('exit', (code) => (exited = code));
  for (let i = 0; ; i++) {
    if (exited !== undefined) throw new Error(`gateway exited with ${exited} before it was ready`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300) throw new Error('gateway did not become ready in 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, url, stop: stopper(proc) };
}

/** Runs `bench/<entry>` to completion and returns its first stdout line parsed as JSON. */
export async function runChildJson<T>(entry: string, args: string[] = [], nodeArgs: string[] = []): Promise<T> {
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(ROOT, 'bench', entry), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let first: string | undefined;
  createInterface({ input: proc.stdout! }).on('line', (line) => (first ??= line));
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  if (code !== 0 || first === undefined) throw new Error(`${entry} exited with ${code}`);
  return JSON.parse(first) as T;
}
