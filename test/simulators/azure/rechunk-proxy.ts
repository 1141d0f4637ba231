// A TCP proxy that forwards the upstream's bytes 1–7 at a time with a pause between writes, so
// HTTP chunk framing, SSE lines and UTF-8 characters arrive torn at awkward places.
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';

export interface RechunkProxy {
  url: string;
  close(): Promise<void>;
}

export async function startRechunkProxy(target: string, seed = 7): Promise<RechunkProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let state = seed;
  const nextSize = () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return 1 + (state % 7);
  };

  const server = createServer((client) => {
    client.setNoDelay(true);
    const upstream = connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    let chain = Promise.resolve();
    upstream.on('data', (data: Buffer) => {
      upstream.pause();
      chain = chain.then(async () => {
        for (let i = 0; i < data.length; ) {
          const n = nextSize();
          if (client.destroyed) return;
          client.write(data.subarray(i, i + n));
          i += n;
          await tick();
        }
        upstream.resume();
      });
    });
    upstream.on('end', () => void chain.then(() => client.end()));
    upstream.on('error', () => void chain.then(() => client.destroy()));
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
