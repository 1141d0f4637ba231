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
