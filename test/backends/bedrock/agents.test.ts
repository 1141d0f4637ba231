// The Bedrock client's agents bound a new connection, TLS handshake included, and only that: a
// slow answer on a connection that is up is not a connect timeout.
import { createServer, request, type Agent, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectTimedHttpAgent, ConnectTimedHttpsAgent } from '../../../src/backends/bedrock/agents.js';
import { hangingConnect, silentTls, type HangingUpstream } from '../../helpers/hanging-connect.js';

const CONNECT_MS = 200;

/** GET / through `agent`: the status, or the error the request failed with, and how long it took. */
function get(send: typeof request, agent: Agent, port: number): Promise<{ status?: number; error?: unknown; ms: number }> {
  const started = performance.now();
  const ms = () => performance.now() - started;
  return new Promise((resolve) => {
    const req = send({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume().on('end', () => resolve({ status: res.statusCode, ms: ms() }));
    });
    req.on('error', (error) => resolve({ error, ms: ms() })).end();
  });
}

const connectTimeout = { status: 504, type: 'timeout_error', code: 'upstream_connect_timeout' };

let hanging: HangingUpstream;
let silent: HangingUpstream;
beforeAll(async () => {
  [hanging, silent] = await Promise.all([hangingConnect(), silentTls()]);
});
afterAll(() => Promise.all([hanging?.close(), silent?.close()]));

describe('connect-timed agents', () => {
  it('http: a TCP connect that hangs fails after connectMs with upstream_connect_timeout', async () => {
    const agent = new ConnectTimedHttpAgent({ keepAlive: true }, CONNECT_MS);
    const { error, ms } = await get(request, agent, hanging.port);
    agent.destroy();
    expect(error).toMatchObject(connectTimeout);
    expect(ms).toBeGreaterThanOrEqual(CONNECT_MS - 5);
    expect(ms).toBeLessThan(1500);
  });

  it('https: a TLS handshake that never completes fails the same way (TCP alone connected at once)', async () => {
    const agent = new ConnectTimedHttpsAgent({ keepAlive: true }, CONNECT_MS);
    const { error, ms } = await get(httpsRequest as typeof request, agent, silent.port);
    agent.destroy();
    expect(error).toMatchObject(connectTimeout);
    expect(ms).toBeGreaterThanOrEqual(CONNECT_MS - 5);
    expect(ms).toBeLessThan(1500);
  });

  it('an answer slower than connectMs on a connection that is up is not a connect timeout', async () => {
    const server: Server = createServer((_req, res) => setTimeout(() => res.end('late'), 2 * CONNECT_MS));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const agent = new ConnectTimedHttpAgent({ keepAlive: true }, CONNECT_MS);
    try {
      const port = (server.address() as AddressInfo).port;
      expect(await get(request, agent, port)).toMatchObject({ status: 200 });
      // The second request reuses the kept-alive socket.
      expect(await get(request, agent, port)).toMatchObject({ status: 200 });
    } finally {
      agent.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
