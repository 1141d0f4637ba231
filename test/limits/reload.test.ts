// Limits come from the runtime of each request: a config reload changes them at once, no restart.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/logger.js';
import { configYaml, KEY_A } from './helpers.js';

let gateway: Gateway;
let file: string;
beforeAll(async () => {
  file = join(mkdtempSync(join(tmpdir(), 'sr-limits-')), 'stateroute.yaml');
  writeFileSync(file, configYaml('default: { requestsPerMinute: 1 }'));
  gateway = await startGateway({ config: parseConfig(configYaml('default: { requestsPerMinute: 1 }'), file, {}), configFile: file, env: {}, port: 0, logger: createLogger({ level: 'silent' }) });
});
afterAll(() => gateway?.stop(0));

const models = () => fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${KEY_A}` } });

it('a reload raising requestsPerMinute applies to the next request', async () => {
  expect((await models()).status).toBe(200);
  expect((await models()).status).toBe(429);
  writeFileSync(file, configYaml('default: { requestsPerMinute: 100 }'));
  expect(await gateway.reload()).toBe(true);
  expect((await models()).status).toBe(200);
});
