// The baseline for the cluster scenarios: N copies of bench/proxy.ts's bare pass-through proxy
// behind one port (node:cluster, as `stateroute serve --workers N` runs the gateway), so the
// gateway's workers are compared with as many proxy processes. Run as a child:
// `proxy-cluster.ts UPSTREAM_URL N`; prints `{"url": …}` when every worker listens.
import cluster from 'node:cluster';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

const upstream = process.argv[2] ?? '';
const workers = Number(process.argv[3] ?? 2);

if (cluster.isPrimary) {
  if (!(Number.isInteger(workers) && workers > 0)) throw new Error(`proxy-cluster: N must be a positive integer, got ${process.argv[3]}`);
  // A free port chosen here: the workers share it through the primary.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  // The workers' own "listening" lines stay out of this process's stdout, which is the URL handshake.
  cluster.setupPrimary({ args: [upstream, String(workers)], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  let listening = 0;
  for (let i = 0; i < workers; i++)
    cluster.fork({ PROXY_PORT: String(port) }).on('listening', () => {
      if (++listening === workers) process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
    });
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  // A worker is proxy.ts itself, on the primary's port (PROXY_PORT, from fork's environment).
  await import('./proxy.js');
}
