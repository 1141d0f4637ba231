// The baseline: a bare Node `http` pass-through proxy. It forwards method, path and headers to one
// upstream over a keep-alive agent and pipes the request and response bodies; nothing is parsed,
// checked or counted. Run as a child: `proxy.ts UPSTREAM_URL`; prints `{"url": …}` when listening.
// PROXY_PORT picks the port (a cluster's workers share the one their primary chose).
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

const upstream = new URL(process.argv[2] ?? '');
const agent = new Agent({ keepAlive: true, maxSockets: 512 });

const server = createServer({ keepAlive: true }, (req, res) => {
  const headers = { ...req.headers, host: upstream.host };
  const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  out.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(out);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PROXY_PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
