// Tests that need Redis fail under CI when it is unreachable, and skip visibly elsewhere.
import { Socket } from 'node:net';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function redisReachable(url = REDIS_URL): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(500);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
    socket.connect(Number(port || 6379), hostname);
  });
}

/** True when the Redis tests should run; throws under CI when Redis is down. */
export async function requireRedis(): Promise<boolean> {
  if (await redisReachable()) return true;
  if (process.env.CI) throw new Error(`Redis is required in CI and is not reachable at ${REDIS_URL}`);
  console.warn(`skipping Redis tests: nothing answers at ${REDIS_URL}`);
  return false;
}

/** A TCP relay to Redis that a test can cut and restore, standing in for a Redis crash and restart. */
export async function redisRelay(target: URL) {
  const { createServer, connect } = await import('node:net');
  let server: import('node:net').Server | undefined;
  const sockets = new Set<import('node:net').Socket>();
  const start = async (port = 0) => {
    server = createServer((client) => {
      const upstream = connect(Number(target.port || 6379), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
    return (server.address() as { port: number }).port;
  };
  const stop = async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server!.close(r));
  };
  return { start, stop };
}
