// Upstreams whose connection never comes up, on loopback. A listener that accepts connects at once,
// so `hangingConnect` makes one that does not: it listens with a backlog of 1 in a worker thread
// whose event loop is then blocked (nothing accepts), and fills the accept queue; the kernel then
// drops further SYNs (Linux; the helper throws where connects still complete) and a client waits in
// SYN-SENT. A non-routable address is no substitute: on the dev machine a proxy accepted a connect to
// 10.255.255.1 at once, and without a route it fails at once (ENETUNREACH). `silentTls` accepts TCP
// and never answers the TLS ClientHello: the handshake hangs.
import net from 'node:net';
import { Worker } from 'node:worker_threads';

export interface HangingUpstream {
  port: number;
  close(): Promise<void>;
}

const LISTENER = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const flag = new Int32Array(workerData);
const server = net.createServer((socket) => socket.destroy());
server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
  parentPort.postMessage(server.address().port);
  setImmediate(() => {
    Atomics.store(flag, 1, 1);
    Atomics.wait(flag, 0, 0); // blocked: the loop accepts nothing until close() wakes it
    server.close();
  });
});
`;

/** Resolves with true once `socket` connects, false if it is still connecting after `ms`. The
 * verdict waits for the loop's next check phase, so a connect that a busy loop had not yet handled
 * when the timer fired still counts. */
const connects = (socket: net.Socket, ms: number) =>
  new Promise<boolean>((resolve, reject) => {
    const timer = setTimeout(() => setImmediate(() => resolve(!socket.connecting)), ms);
    socket.once('connect', () => (clearTimeout(timer), resolve(true)));
    socket.on('error', (err) => (clearTimeout(timer), reject(err)));
  });

export async function hangingConnect(): Promise<HangingUpstream> {
  const flag = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(LISTENER, { eval: true, workerData: flag.buffer });
  const port = await new Promise<number>((resolve, reject) => worker.once('message', resolve).once('error', reject));
  while (Atomics.load(flag, 1) === 0) await new Promise((r) => setTimeout(r, 5));
  const fillers: net.Socket[] = [];
  const close = async () => {
    for (const s of fillers) s.destroy();
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    await worker.terminate();
  };
  // The queue holds backlog + 1 on Linux; connect until one stays pending, proving the hang.
  for (let i = 0; i < 16; i++) {
    const socket = net.connect({ host: '127.0.0.1', port });
    fillers.push(socket);
    if (!(await connects(socket, 200))) return { port, close };
  }
  await close();
  throw new Error('hangingConnect: every connect completed; this OS does not drop SYNs to a full accept queue');
}

export async function silentTls(): Promise<HangingUpstream> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket)).on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
