// `stateroute explain --config FILE REQUEST.json`: which rule a request matches and why each earlier
// rule did not, without starting a server.
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { compileRouter } from '../routing/compile.js';
import { formatExplanation, formatRules } from '../routing/explain.js';
import { requestFacts } from '../routing/facts.js';

export interface ExplainCommandOptions {
  configFile: string;
  /** JSON: { method?, path?, headers?, tenant?, body? }; defaults to POST /v1/chat/completions. */
  requestFile: string;
  out: { write(text: string): unknown };
  /** Defaults to process.env (for ${VAR} interpolation in the config). */
  env?: Record<string, string | undefined>;
  /** Also print every route and rule in effect (useful to see the built-in defaults). */
  showRules?: boolean;
  /** Only a weighted split uses it; injectable so the output is reproducible. */
  random?: () => number;
}

export const EXIT_OK = 0;
export const EXIT_BAD_CONFIG = 1;
export const EXIT_BAD_REQUEST = 2;

/** Prints the explanation to `out`; returns the process exit code. Never throws. */
export function explainCommand(options: ExplainCommandOptions): number {
  const { out } = options;
  let config;
  try {
    config = loadConfigFile(options.configFile, options.env);
  } catch (err) {
    out.write(`${err instanceof ConfigError ? err.message : `cannot load ${options.configFile}: ${(err as Error).message}`}\n`);
    return EXIT_BAD_CONFIG;
  }
  const request = readRequest(options.requestFile);
  if (typeof request === 'string') {
    out.write(`${request}\n`);
    return EXIT_BAD_REQUEST;
  }
  const router = compileRouter(config);
  const facts = requestFacts({
    method: request.method ?? 'POST',
    path: request.path ?? '/v1/chat/completions',
    headers: request.headers ?? {},
    tenant: request.tenant,
    body: request.body,
    sessions: config.sessions,
  });
  if (options.showRules) out.write(`${formatRules(router)}\n\n`);
  out.write(`${formatExplanation(router, facts, router.explain(facts, options.random))}\n`);
  return EXIT_OK;
}

interface RequestFile {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  tenant?: string;
  body?: unknown;
}

/** The request, or a message saying what is wrong with the file. */
function readRequest(file: string): RequestFile | string {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return `cannot read the request file ${file}: ${(err as Error).message}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${file}: expected a JSON object { method?, path?, headers?, tenant?, body? }`;
  const r = value as Record<string, unknown>;
  const allowed = ['method', 'path', 'headers', 'tenant', 'body'];
  const unknown = Object.keys(r).filter((k) => !allowed.includes(k));
  if (unknown.length) return `${file}: unknown field ${unknown.map((k) => `"${k}"`).join(', ')}; allowed: ${allowed.join(', ')}`;
  for (const k of ['method', 'path', 'tenant'] as const)
    if (r[k] !== undefined && typeof r[k] !== 'string') return `${file}: "${k}" must be a string`;
  if (typeof r.path === 'string' && !r.path.startsWith('/')) return `${file}: "path" must start with "/"`;
  if (r.headers !== undefined) {
    if (typeof r.headers !== 'object' || r.headers === null || Array.isArray(r.headers)) return `${file}: "headers" must be an object of strings`;
    const headers: Record<string, string> = {};
    for (const [name, v] of Object.entries(r.headers)) {
      if (typeof v !== 'string') return `${file}: header "${name}" must be a string`;
      headers[name.toLowerCase()] = v;
    }
    r.headers = headers;
  }
  return r as RequestFile;
}
