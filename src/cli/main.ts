// `stateroute <command>`: serve, check, explain, report, demo.
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { runCheck } from './check.js';
import { warnMissingNodeFlags } from './node-flags.js';
import { runServe } from './serve.js';

const USAGE = `usage: stateroute <command> [options]

commands:
  serve   --config FILE [--port N] [--workers N]
                                          start the gateway (config also from STATEROUTE_CONFIG);
                                          --workers N: N processes on one port (sessions must be in Redis)
  check   --config FILE                   validate a config file and exit (non-zero on error)
  explain --config FILE REQUEST.json [--rules]  show which routing rule a request matches, and why
  report  --ledger DIR|postgres://… [--since 24h] [--by backend|model|tenant|route] [--format table|csv|json]
  demo                                    start the simulators and a gateway on 127.0.0.1:8080 (PORT overrides)
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: false,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string' },
      workers: { type: 'string' },
      ledger: { type: 'string' },
      since: { type: 'string' },
      by: { type: 'string' },
      format: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      rules: { type: 'boolean' },
    },
  });
  const configFile = (values.config as string | undefined) ?? process.env.STATEROUTE_CONFIG;
  const out = (s: string) => process.stdout.write(s);
  const err = (s: string) => process.stderr.write(s);
  if (!command || command === 'help' || values.help) {
    out(USAGE);
    return command ? 0 : 2;
  }
  const needConfig = () => {
    if (!configFile) throw new UsageError(`${command}: --config FILE (or STATEROUTE_CONFIG) is required`);
    return configFile;
  };
  try {
    switch (command) {
      case 'serve': {
        // Once, from the process the operator started (cluster workers inherit its flags).
        if (cluster.isPrimary) warnMissingNodeFlags();
        const workers = values.workers === undefined ? 1 : Number(values.workers);
        if (!Number.isInteger(workers) || workers < 1) throw new UsageError(`serve: --workers must be a whole number ≥ 1, got "${String(values.workers)}"`);
        if (workers === 1) return await runServe({ configFile: needConfig(), port: values.port as string | undefined });
        const { runWorkers } = await import('./workers.js');
        return await runWorkers({ configFile: needConfig(), port: values.port as string | undefined, workers });
      }
      case 'check':
        return runCheck({ configFile: needConfig(), out, err });
      case 'explain': {
        const { explainCommand } = await import('./explain.js');
        if (!positionals[0]) throw new UsageError('explain: REQUEST.json is required');
        return await explainCommand({ configFile: needConfig(), requestFile: positionals[0], out: process.stdout, showRules: values.rules === true });
      }
      case 'report': {
        const { reportCommand } = await import('./report.js');
        if (!values.ledger) throw new UsageError('report: --ledger DIR|postgres://… is required');
        return await reportCommand({
          ledger: values.ledger as string,
          since: (values.since as string | undefined) ?? '24h',
          by: ((values.by as string | undefined) ?? 'backend') as never,
          format: ((values.format as string | undefined) ?? 'table') as never,
          out: process.stdout,
          err: process.stderr,
        });
      }
      case 'demo': {
        const { runDemo } = await import('./demo.js');
        return await runDemo({ port: values.port as string | undefined });
      }
      default:
        err(`unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(`${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}

class UsageError extends Error {}

// Run only as the entry point, so tests can import main().
const entry = process.argv[1] ?? '';
if (/cli[\\/]main\.(ts|js)$/.test(entry) || /bin[\\/]stateroute(\.js)?$/.test(entry)) {
  main(process.argv.slice(2)).then(
    (code) => {
      // serve and demo keep running until a signal; they resolve with -1.
      if (code >= 0) process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
