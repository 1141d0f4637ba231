// connectMs is per route in the config but per backend on the wire (one connection pool each).
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { connectMsByBackend } from '../../src/resilience/route.js';

const config = (routes: string) =>
  parseConfig(
    `
auth: { mode: none }
backends:
  a: { type: azure-openai, endpoint: "http://127.0.0.1:1", apiKey: k, apiVersion: "2024-10-21" }
  b: { type: azure-openai, endpoint: "http://127.0.0.1:2", apiKey: k, apiVersion: "2024-10-21" }
  c: { type: azure-openai, endpoint: "http://127.0.0.1:3", apiKey: k, apiVersion: "2024-10-21" }
  d: { type: azure-openai, endpoint: "http://127.0.0.1:4", apiKey: k, apiVersion: "2024-10-21" }
${routes}`,
    'route.yaml',
    {},
  );

describe('connectMsByBackend', () => {
  it('without routes every backend gets the default', () => {
    expect(Object.fromEntries(connectMsByBackend(config('')))).toEqual({ a: 5000, b: 5000, c: 5000, d: 5000 });
  });

  it('a backend gets the smallest connectMs of the routes that reach it, as primary, split target or fallback', () => {
    const routes = `
routes:
  fast: { kind: stateless, backend: a, fallbacks: [{ backend: b }], resilience: { timeouts: { connectMs: 300 } } }
  split: { kind: stateless, split: [{ backend: a, weight: 1 }, { backend: c, weight: 1 }], resilience: { timeouts: { connectMs: 800 } } }
  plain: { kind: stateless, backend: c }
default: plain`;
    // d: named by no route; c: 800 (split) beats the default of "plain".
    expect(Object.fromEntries(connectMsByBackend(config(routes)))).toEqual({ a: 300, b: 300, c: 800, d: 5000 });
  });
});
