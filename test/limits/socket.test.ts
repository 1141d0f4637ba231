// A client that hangs up mid-stream on a real socket gives its concurrency slot back.
import { request } from 'node:http';
import { afterAll, expect, it } from 'vitest';
import { listen, type Listening } from '../../src/server/serve.js';
import { chat, KEY_A, limitedApp } from './helpers.js';

let server: Listening | undefined;
afterAll(() => server?.drain(0));

it('frees the slot when the client disconnects mid-stream', async () => {
  const g = limitedApp('default: { concurrentRequests: 1 }');
  g.stateless.script = { reply: 'one two three four five six seven eight', chunkDelayMs: 50 };
  server = await listen(g.app, { host: '127.0.0.1', port: 0 });
  const body = JSON.stringify(chat({ stream: true }));
  await new Promise<void>((resolve, reject) => {
    const req = request(`${server!.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json' } }, (res) => {
      expect(res.statusCode).toBe(200);
      res.once('data', () => {
        req.destroy(); // hang up after the first chunk
        resolve();
      });
    });
    req.on('error', () => {});
    req.once('error', reject);
    req.end(body);
  });
  expect(g.limiter.inFlight).toBe(1);
  for (let i = 0; i < 100 && g.limiter.inFlight > 0; i++) await new Promise((r) => setTimeout(r, 10));
  await g.settled();
  expect(g.limiter.inFlight).toBe(0);
  const res = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json' }, body: JSON.stringify(chat()) });
  expect(res.status).toBe(200);
});
