// `stateroute serve --workers N`: N gateway processes (node:cluster) sharing one port.
//
// The primary only supervises: it checks that the config can be shared by N processes, forks the
// workers, restarts one that dies, aggregates /metrics over IPC (prom-client AggregatorRegistry)
// for whichever worker is asked, and on SIGTERM/SIGINT drains every worker and exits 0.
//
// What would silently become per-worker is refused at start (sessions in memory), or made
// per-worker on purpose: each worker writes its own ledger files (`<dir>/worker-<i>/`, and the
// PostgreSQL ledger's spill files likewise), so no two processes append to one file.
import cluster, { type Worker } from 'node:cluster';
import { join } from 'node:path';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../config/schema.js';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { startGateway } from '../gateway.js';
import { createLogger } from '../logger.js';

const INDEX_ENV = 'STATEROUTE_WORKER_INDEX';
const METRICS_REQ = 'stateroute:metrics-req';
const METRICS_RES = 'stateroute:metrics-res';
const READY = 'stateroute:ready';

type Message =
  | { type: typeof METRICS_REQ; id: number }
  | { type: typeof METRICS_RES; id: number; text?: string; error?: string }
  | { type: typeof READY; url: string };

/** Why `config` cannot run in `workers` processes sharing one port; empty when it can. */
export function clusterProblems(config: Config, workers: number): string[] {
  if (workers <= 1) return [];
  const problems: string[] = [];
  if (config.sessions.store.type === 'memory')
    problems.push(
      `sessions.store is "memory": with --workers ${workers} every worker would keep its own sessions, and a session's next turn ` +
        'could land on a worker that has never seen it. Sessions must be shared: set sessions.store to { type: redis, url: … }.',
    );
  const counted = (l: Record<string, unknown> | undefined) =>
    !!l && ['requestsPerMinute', 'tokensPerMinute', 'concurrentRequests', 'budgetUsd'].some((k) => l[k] !== undefined && l[k] !== null);
  if (config.limits.store.type === 'memory' && (counted(config.limits.default) || Object.values(config.limits.tenants).some(counted)))
    problems.push(
      `limits.store is "memory": with --workers ${workers} each worker would count on its own, so every limit would be ${workers}× too high. ` +
        'Set limits.store to { type: redis, url: … }.',
    );
  return problems;
}

/** A worker's own copy of the config: the ledger's files go in a directory of its own. */
export function workerConfig(config: Config, index: number): Config {
  const ledger = config.metering.ledger;
  const sub = (dir: string) => join(dir, `worker-${index}`);
  const own =
    ledger.type === 'jsonl' ? { ...ledger, dir: sub(ledger.dir) } : ledger.type === 'postgres' ? { ...ledger, spillDir: sub(ledger.spillDir) } : ledger;
  return { ...config, metering: { ...config.metering, ledger: own } };
}

export interface WorkersOptions {
  configFile: string;
  port?: string | undefined;
  workers: number;
}

/** Primary or worker, depending on which process runs it. Resolves -1 while serving (like runServe). */
export async function runWorkers(options: WorkersOptions): Promise<number> {
  if (cluster.isPrimary) return runPrimary(options);
  // A worker that cannot start says why and exits; the primary then stops the rest.
  return runWorker(options).catch((e: unknown) => {
    process.stderr.write(`worker ${process.env[INDEX_ENV] ?? '?'}: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}

async function runPrimary(options: WorkersOptions): Promise<number> {
  let config: Config;
  try {
    config = loadConfigFile(options.configFile);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const problems = clusterProblems(config, options.workers);
  if (problems.length > 0) {
    process.stderr.write(`cannot run --workers ${options.workers} with ${options.configFile}:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    return 1;
  }

  const aggregator = new AggregatorRegistry();
  const byIndex = new Map<number, Worker>();
  let stopping = false;
  let started = false;
  const ready = new Set<number>();

  const fork = (index: number): void => {
    const worker = cluster.fork({ [INDEX_ENV]: String(index) });
    byIndex.set(index, worker);
    worker.on('message', (message: Message) => {
      if (message.type === READY) {
        ready.add(index);
        if (!started && ready.size === options.workers) {
          started = true;
          process.stderr.write(`stateroute listening on ${message.url} with ${options.workers} workers\n`);
        }
      } else if (message.type === METRICS_REQ) {
        aggregator.clusterMetrics().then(
          (text) => worker.isConnected() && worker.send({ type: METRICS_RES, id: message.id, text }),
          (e: unknown) => worker.isConnected() && worker.send({ type: METRICS_RES, id: message.id, error: String(e) }),
        );
      }
    });
    worker.once('exit', (code, signal) => {
      if (byIndex.get(index) === worker) byIndex.delete(index);
      if (stopping) return;
      if (!ready.has(index)) {
        // It died before serving (a port in use, Redis unreachable at start…): do not loop.
        process.stderr.write(`worker ${index} failed to start (exit ${code ?? signal}); stopping\n`);
        void stopAll(1);
        return;
      }
      process.stderr.write(`worker ${index} exited (${code ?? signal}); starting a new one\n`);
      ready.delete(index);
      setTimeout(() => fork(index), 500).unref();
    });
  };

  let exitCode = 0;
  const stopAll = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    const workers = [...byIndex.values()];
    const exits = workers.map(
      (w) =>
        new Promise<number>((resolve) => {
          if (w.process.exitCode !== null) return resolve(w.process.exitCode);
          w.once('exit', (c, signal) => resolve(signal ? 1 : (c ?? 1)));
        }),
    );
    // Each worker drains its own requests within server.shutdownGraceMs and exits 0.
    for (const w of workers) w.process.kill('SIGTERM');
    const hardStop = setTimeout(() => workers.forEach((w) => w.process.kill('SIGKILL')), config.server.shutdownGraceMs + 10_000);
    const codes = await Promise.all(exits);
    clearTimeout(hardStop);
    if (codes.some((c) => c !== 0)) exitCode = exitCode || 1;
    process.exit(exitCode);
  };
  const onSignal = (signal: string) => {
    process.stderr.write(`${signal}: draining ${byIndex.size} workers…\n`);
    void stopAll(0);
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  // SIGHUP reloads the config in every worker (the gateway's reloader there listens for it, and
  // also watches the file).
  process.on('SIGHUP', () => byIndex.forEach((w) => w.process.kill('SIGHUP')));

  for (let i = 1; i <= options.workers; i++) fork(i);
  return -1;
}

async function runWorker(options: WorkersOptions): Promise<number> {
  const index = Number(process.env[INDEX_ENV] ?? cluster.worker?.id ?? 0);
  const config = workerConfig(loadConfigFile(options.configFile), index);
  const logger = createLogger({ level: config.logging.level }).child({ worker: index });
  const port = options.port ?? process.env.PORT;
  const gateway = await startGateway({ config, configFile: options.configFile, adjust: (c) => workerConfig(c, index), logger, port: port === undefined ? undefined : Number(port) });

  // prom-client answers the primary's requests for this worker's registry…
  AggregatorRegistry.setRegistries([gateway.meter.metrics.registry]);
  new AggregatorRegistry();
  // …and this worker's /metrics asks the primary for the cluster-wide aggregate.
  let nextId = 0;
  const pending = new Map<number, { resolve: (text: string) => void; reject: (e: Error) => void }>();
  process.on('message', (message: Message) => {
    if (message.type !== METRICS_RES) return;
    const p = pending.get(message.id);
    if (!p) return;
    pending.delete(message.id);
    if (message.text !== undefined) p.resolve(message.text);
    else p.reject(new Error(`cluster metrics: ${message.error ?? 'no answer'}`));
  });
  gateway.meter.metrics.setExposition(
    () =>
      new Promise<string>((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => pending.delete(id) && reject(new Error('cluster metrics: the primary did not answer in 10 s')), 10_000);
        pending.set(id, { resolve: (t) => (clearTimeout(timer), resolve(t)), reject: (e) => (clearTimeout(timer), reject(e)) });
        process.send!({ type: METRICS_REQ, id });
      }),
  );

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    gateway.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`worker ${index}: shutdown failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The primary went away without a signal: do not linger as an orphan.
  process.once('disconnect', stop);
  process.send!({ type: READY, url: gateway.url });
  return -1;
}
