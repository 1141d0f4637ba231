// Binds the app to a port and owns the process lifecycle: SIGTERM stops accepting, lets in-flight
// requests and streams finish up to the grace deadline, then closes the rest.
import { serve, type ServerType } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Hono } from 'hono';
import type { AppEnv } from './context.js';

export interface Listening {
  server: Server;
  url: string;
  port: number;
  /** Stop accepting; resolve when in-flight responses have ended or `graceMs` has passed. */
  drain(graceMs: number): Promise<{ forced: number }>;
}

export async function listen(app: Hono<AppEnv>, options: { host: string; port: number }): Promise<Listening> {
  let inFlight = 0;
  let idle: (() => void) | undefined;
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: options.host, port: options.port }, () => resolve(s));
    s.once('error', reject);
  });
  const http = server as Server;
  // Long LLM streams: no per-request timeout from Node; keep-alive a little longer than common LB idle timeouts.
  http.requestTimeout = 0;
  http.keepAliveTimeout = 65_000;
  http.on('request', (_req, res) => {
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) idle?.();
    });
  });
  const { port } = http.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    server: http,
    port,
    url: `http://${host}:${port}`,
    async drain(graceMs) {
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      const finished = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
      const outcome = await Promise.race([finished.then(() => 'done' as const), timedOut]);
      clearTimeout(timer);
      const forced = outcome === 'timeout' ? inFlight : 0;
      http.closeAllConnections();
      await closed;
      return { forced };
    },
  };
}
