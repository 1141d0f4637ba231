// Hot reload under load: a client keeps sending requests while the config file alternates between
// two valid routings and broken files. No request fails; each valid routing takes effect; no broken
// one ever does.
import { writeFileSync } from 'node:fs';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ withConfigFile: true });
});
afterAll(() => stack.close());

const routing = (defaultRoute: 'a' | 'b') => `
routes:
  a: { kind: stateless, backend: azure }
  b: { kind: stateful, backend: bedrock }
default: ${defaultRoute}
`;
const BROKEN = ['routes: [', 'routes:\n  a: { kind: stateless, backend: nowhere }\ndefault: a\n', 'rules:\n  - { name: x, when: { nope: 1 }, route: a }\n'];

describe('config reload under load', () => {
  it('100 reloads alternating valid and invalid configs lose no request', async () => {
    const client = new OpenAI({ apiKey: KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
    let running = true;
    let sent = 0;
    const failures: unknown[] = [];
    const routes = new Set<string>();
    const load = (async () => {
      while (running) {
        const r = await client.chat.completions
          .create({ model: 'gpt-4o', messages: [{ role: 'user', content: `n${sent}` }] })
          .withResponse()
          .catch((e) => (failures.push(e), undefined));
        sent++;
        const route = r?.response.headers.get('x-stateroute-route');
        if (route) routes.add(route);
      }
    })();
    for (let i = 0; i < 100; i++) {
      const valid = i % 2 === 0;
      const route = i % 4 === 0 ? 'a' : 'b';
      writeFileSync(stack.configFile!, stack.yaml + (valid ? routing(route) : BROKEN[i % BROKEN.length]));
      expect(await stack.gateway.reload()).toBe(valid);
      if (valid) {
        const r = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'probe' }] }).withResponse();
        expect(r.response.headers.get('x-stateroute-route')).toBe(route);
      }
    }
    running = false;
    await load;
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(20);
    expect([...routes].sort()).toEqual(['a', 'b']);
    const metrics = await stack.gateway.meter.metrics.metrics();
    expect(metrics).toContain('stateroute_config_reloads_total{result="failure"} 50');
    expect(metrics).toContain('stateroute_config_reloads_total{result="success"} 50');
  }, 60_000);
});
