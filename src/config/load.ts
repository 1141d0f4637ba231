// Reads a YAML config file, interpolates ${VAR} / ${VAR:-default} from the environment in scalar
// values, validates it with the zod schema and reports every problem with file, line and field.
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`invalid config ${file}:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Parse and validate config text; `file` is used only in messages. */
export function parseConfig(text: string, file: string, env: Env = process.env): Config {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number | undefined) => (offset === undefined ? undefined : lines.linePos(offset).line);
  const problems: string[] = [];
  const syntax = doc.errors[0];
  if (syntax) {
    // Later YAML errors are mostly echoes of the first one; report that one well.
    const line = lineOf(syntax.pos[0]) ?? 1;
    const hint = /\$\{[^}]*\}/.test(text.split('\n')[line - 1] ?? '') ? ' — quote a ${…} value inside { } or [ ]' : '';
    throw new ConfigError(file, [`YAML syntax: ${syntax.message.split('\n')[0]}${hint} (${file}:${line})`]);
  }

  interpolate(doc, env, (message, offset) => problems.push(`${message} (${file}:${lineOf(offset) ?? '?'})`));
  if (problems.length) throw new ConfigError(file, problems);

  const result = configSchema.safeParse(doc.toJS() ?? {}, { reportInput: true });
  if (result.success) return result.data;
  for (const issue of result.error.issues) problems.push(describeIssue(issue, doc, file, lineOf));
  throw new ConfigError(file, problems);
}

export function loadConfigFile(file: string, env: Env = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read the config file: ${(err as Error).message}`]);
  }
  return parseConfig(text, file, env);
}

function interpolate(doc: Document, env: Env, report: (message: string, offset?: number) => void) {
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      const value: string = node.value.replace(VAR, (_m, name: string, fallback: string | undefined) => {
        const value = env[name];
        if (value !== undefined && value !== '') return value;
        if (fallback !== undefined) return fallback;
        report(`environment variable ${name} is not set (use \${${name}:-default} for a default)`, node.range?.[0]);
        return '';
      });
      node.value = value;
      // As in YAML itself, an unquoted value reads as a number or boolean (port: ${PORT:-8080}); a quoted one stays a string.
      if (node.type !== 'PLAIN') return;
      if (/^-?\d+(\.\d+)?$/.test(value)) node.value = Number(value);
      else if (value === 'true' || value === 'false') node.value = value === 'true';
    },
  });
}

function describeIssue(issue: z.core.$ZodIssue, doc: Document, file: string, lineOf: (o?: number) => number | undefined): string {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  const field = path.length ? path.join('.') : '(top level)';
  // An unknown field points at its own key; anything else at its value, or, when missing, at the
  // key of the nearest enclosing field that the file has.
  const target = issue.code === 'unrecognized_keys' && issue.keys[0] ? [...path, issue.keys[0]] : path;
  let line = valueLine(doc, target, lineOf);
  for (let n = target.length; line === undefined && n > 0; n--) line = keyLine(doc, target.slice(0, n), lineOf);
  return `${field}: ${messageFor(issue)} (${file}:${line ?? 1})`;
}

function valueLine(doc: Document, path: PropertyKey[], lineOf: (o?: number) => number | undefined): number | undefined {
  const node = doc.getIn(path, true) as Node | undefined;
  return node && isScalar(node) ? lineOf(node.range?.[0]) : undefined;
}

function keyLine(doc: Document, path: PropertyKey[], lineOf: (o?: number) => number | undefined): number | undefined {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1];
  if (isMap(parent)) {
    const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(last));
    const key = pair?.key as Node | undefined;
    return key ? lineOf(key.range?.[0]) : undefined;
  }
  if (isSeq(parent)) {
    const item = parent.items[Number(last)] as Node | undefined;
    return item ? lineOf(item.range?.[0]) : undefined;
  }
  return undefined;
}

function messageFor(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      // A missing field: zod reports input undefined (or, from nested schemas, says so in its message).
      return issue.input === undefined || /received undefined$/.test(issue.message) ? `required (${issue.expected})` : `expected ${issue.expected}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_union':
      if ('discriminator' in issue && issue.discriminator) return `${issue.message}`;
      return 'does not match any allowed form';
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message;
  }
}
