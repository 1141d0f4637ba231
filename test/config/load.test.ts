import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfig } from '../../src/config/load.js';

const minimal = (azure: string) => `auth:
  mode: none
backends:
  azure:
    type: azure-openai
${azure}`;

function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, 'config/stateroute.yaml', env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected the config to be rejected');
}

describe('config loading', () => {
  it('names file, line and field, and what is allowed', () => {
    const text = minimal('    endpoint: https://r.openai.azure.com\n    apiKey: k\n');
    expect(problems(text)).toEqual(['backends.azure.apiVersion: required, e.g. "2024-10-21" (config/stateroute.yaml:4)']);
  });

  it('reports an unknown field at its own line', () => {
    const text = minimal('    endpoint: https://r.openai.azure.com\n    apiKey: k\n    apiVersion: "2024-10-21"\n    deploymnets: {}\n');
    expect(problems(text)).toEqual(['backends.azure: unknown field "deploymnets" (config/stateroute.yaml:9)']);
  });

  it('reports a wrong type and a bad enum value', () => {
    const text = `listen: { port: "eighty" }\nlogging: { level: loud }\nauth: { mode: none }\nbackends:\n  b: { type: bedrock, region: us-east-1 }\n`;
    expect(problems(text)).toEqual([
      'listen.port: expected number (config/stateroute.yaml:1)',
      'logging.level: must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent" (config/stateroute.yaml:2)',
    ]);
  });

  it('requires keys unless auth is explicitly none', () => {
    const text = `backends:\n  b: { type: bedrock, region: us-east-1 }\n`;
    expect(problems(text)[0]).toMatch(/^auth\.keys: at least one key is required, or set auth\.mode: none explicitly/);
  });

  it('rejects an unknown backend type with the allowed ones', () => {
    const text = `auth: { mode: none }\nbackends:\n  x: { type: vertex }\n`;
    expect(problems(text)[0]).toMatch(/^backends\.x\.type: .*(config\/stateroute\.yaml:3)/);
  });

  it('points at a YAML syntax error', () => {
    expect(problems('backends:\n  a: [1, 2\n')[0]).toMatch(/^YAML syntax: .*\(config\/stateroute\.yaml:\d\)$/);
  });

  it('interpolates ${VAR} and ${VAR:-default}, typing unquoted values', () => {
    const text = `listen:\n  port: \${PORT:-9000}\nauth: { mode: none }\nbackends:\n  azure:\n    type: azure-openai\n    endpoint: \${EP}\n    apiKey: "\${KEY}"\n    apiVersion: "2024-10-21"\n`;
    const config = parseConfig(text, 'x.yaml', { EP: 'https://r.openai.azure.com', KEY: '12345' });
    expect(config.listen.port).toBe(9000);
    expect(config.backends.azure).toMatchObject({ endpoint: 'https://r.openai.azure.com', apiKey: '12345' });
    expect(parseConfig(text, 'x.yaml', { EP: 'https://r', KEY: 'k', PORT: '81' }).listen.port).toBe(81);
  });

  it('names a missing environment variable and where it is used', () => {
    const text = `auth: { mode: none }\nbackends:\n  azure:\n    type: azure-openai\n    endpoint: https://r.openai.azure.com\n    apiKey: \${AZURE_OPENAI_API_KEY}\n    apiVersion: "2024-10-21"\n`;
    expect(problems(text)).toEqual(['environment variable AZURE_OPENAI_API_KEY is not set (use ${AZURE_OPENAI_API_KEY:-default} for a default) (config/stateroute.yaml:6)']);
  });

  it('says when the file cannot be read', () => {
    expect(() => loadConfigFile('/nonexistent/stateroute.yaml')).toThrow(/cannot read the config file/);
  });

  it('ships configs that validate', () => {
    const env = { STATEROUTE_KEY: 'sk-0123456789abcdef', AZURE_OPENAI_ENDPOINT: 'https://r.openai.azure.com', AZURE_OPENAI_API_KEY: 'k' };
    for (const file of ['config/stateroute.yaml', 'config/production.example.yaml']) expect(() => loadConfigFile(file, env)).not.toThrow();
  });

  it('loads from a file path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'auth: { mode: none }\nbackends:\n  b: { type: bedrock, region: eu-west-1 }\n');
    expect(loadConfigFile(file, {}).backends.b).toMatchObject({ type: 'bedrock', region: 'eu-west-1' });
  });
});
