// Hot reload of the config file: on SIGHUP and when the file changes, parse and validate it again;
// if valid, build the new snapshot and swap it in atomically; if not, keep the old one.
//
// Atomic means one reference assignment: a request that already called `current()` keeps the
// snapshot it got for its whole life, new requests get the new one, nothing is ever half-built.
// Nothing here throws into the event loop: every failure is logged and reported via onResult.
import { readFileSync, watch, lstatSync, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { ConfigError, loadConfigFile } from './load.js';
import type { Config } from './schema.js';

/** The part of a pino logger the reloader uses. */
export interface ReloadLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ReloaderOptions<T> {
  file: string;
  /** Turns a validated config into what requests use (a compiled router, a whole app state…). */
  build: (config: Config) => T | Promise<T>;
  logger: ReloadLogger;
  /** Called after every reload attempt (not the initial load): true = swapped, false = kept the old one. */
  onResult?: (ok: boolean) => void;
  /** For ${VAR} interpolation; defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Quiet period after the last file event before reloading. Default 100 ms. */
  debounceMs?: number;
  /** Watch the file's directory. Default true. */
  watch?: boolean;
  /** Reload on this signal; false for none. Default 'SIGHUP'. */
  signal?: NodeJS.Signals | false;
}

export interface Reloader<T> {
  /** The current snapshot. Take it once per request and keep it. */
  current(): T;
  /** Reload now; resolves true if the new config was swapped in. Calls made while a reload runs
   * share one follow-up reload that starts after it (so it reads the file as it is then). */
  reload(): Promise<boolean>;
  /** Stop watching and listening for the signal. Idempotent. */
  close(): void;
}

/**
 * Loads the file once (rejecting with a ConfigError if it is invalid: a gateway must not start on a
 * bad config), then keeps `current()` up to date.
 */
export async function createReloader<T>(options: ReloaderOptions<T>): Promise<Reloader<T>> {
  const file = resolve(options.file);
  const { build, logger, onResult, env = process.env, debounceMs = 100 } = options;

  // The text of the last attempt (good or bad): file events that leave it unchanged do nothing.
  let lastText = readText(file);
  let snapshot: T = await build(loadConfigFile(file, env));
  let closed = false;

  const report = (ok: boolean) => {
    try {
      onResult?.(ok);
    } catch (err) {
      logger.error({ err }, 'config reload: the onResult callback threw');
    }
  };

  async function attempt(): Promise<boolean> {
    try {
      lastText = readText(file);
      const config = loadConfigFile(file, env);
      const next = await build(config);
      snapshot = next;
      logger.info({ file }, 'config reloaded');
      report(true);
      return true;
    } catch (err) {
      if (err instanceof ConfigError) {
        logger.error({ file, problems: err.problems }, `config reload failed, keeping the previous config: ${err.problems.join('; ')}`);
      } else {
        logger.error({ file, err }, `config reload failed while building, keeping the previous config: ${(err as Error)?.message ?? err}`);
      }
      report(false);
      return false;
    }
  }

  let running: Promise<boolean> | undefined;
  let queued: Promise<boolean> | undefined;
  const start = (): Promise<boolean> => {
    // attempt() handles its own errors; the catch is for a logger that throws.
    const p: Promise<boolean> = attempt()
      .catch(() => false)
      .finally(() => {
        if (running === p) running = undefined;
      });
    running = p;
    return p;
  };
  const reload = (): Promise<boolean> => {
    if (queued) return queued;
    if (!running) return start();
    queued = running.then(() => {
      queued = undefined;
      return start();
    });
    return queued;
  };

  // File events: editors write a temp file and rename it over the original, which a watch on the
  // file itself would lose, so watch the directory. A config that is a symlink (a Kubernetes
  // ConfigMap swaps a `..data` link) changes without an event naming it: then any event counts.
  // Events come in bursts; reload once after a quiet period, and only if the text changed.
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  const onFileEvent = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (closed) return;
      const text = readText(file);
      if (text !== undefined && text === lastText) return;
      void reload();
    }, debounceMs);
    timer.unref();
  };
  if (options.watch ?? true) {
    const base = basename(file);
    const symlinked = isSymlink(file);
    try {
      watcher = watch(dirname(file), { persistent: false }, (_event, name) => {
        if (symlinked || !name || name === base) onFileEvent();
      });
      watcher.on('error', (err) => logger.error({ file, err }, 'config watch failed; reload with SIGHUP'));
    } catch (err) {
      logger.error({ file, err }, 'cannot watch the config file; reload with SIGHUP');
    }
  }

  const signal = options.signal ?? 'SIGHUP';
  const onSignal = () => {
    logger.info({ file, signal }, 'config reload requested');
    void reload();
  };
  if (signal) process.on(signal, onSignal);

  return {
    current: () => snapshot,
    reload,
    close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      watcher?.close();
      if (signal) process.off(signal, onSignal);
    },
  };
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function isSymlink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
