// One port, two protocols. The Bedrock SDK's default handler (NodeHttp2Handler) speaks h2c with
// prior knowledge to an http:// endpoint, while a gateway usually passes a NodeHttpHandler
// (HTTP/1.1 keep-alive). A plain `net` server peeks at the first bytes of each connection: the
// HTTP/2 client preface starts "PRI * HTTP/2.0" (RFC 9113 §3.4), which no HTTP/1.1 request can;
// the socket, bytes pushed back, then goes to the matching Node server via its 'connection' event.
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';

export type SimRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type SimResponse = http.ServerResponse | http2.Http2ServerResponse;
export type RequestListener = (req: SimRequest, res: SimResponse) => void;

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const CONNECTION_ID = Symbol('bedrockSimulatorConnectionId');

/** Sequence number of the TCP connection a request came on (1, 2, …), so tests can see reuse.
 * HTTP/2 requests expose a proxy of the session socket, which forwards property reads to it. */
export const connectionIdOf = (req: SimRequest): number =>
  ((req.socket as unknown as Record<symbol, number | undefined>)[CONNECTION_ID]) ?? 0;

export interface DualServer {
  url: string;
  close(): Promise<void>;
}

export async function listenDual(options: { port: number; host: string; onRequest: RequestListener }): Promise<DualServer> {
  const h1 = http.createServer({ keepAlive: true }, options.onRequest);
  // Node closes idle keep-alive sockets after 5 s, and a client that reuses one just as it closes
  // sees ECONNRESET; AWS front ends keep them far longer, so idle pauses in tests stay harmless.
  h1.keepAliveTimeout = 60_000;
  const h2 = http2.createServer({}, options.onRequest);
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.Http2Session>();
  h2.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });

  let connections = 0;
  // noDelay: the front server accepts the sockets, so Nagle must be switched off here; with it on,
  // the small event-stream frames wait on delayed ACKs (~40 ms per ConverseStream call).
  const front = net.createServer({ noDelay: true }, (socket) => {
    (socket as unknown as Record<symbol, number>)[CONNECTION_ID] = ++connections;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, PREFACE.length);
      const isH2 = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
      // Wait for more bytes only while they could still be the preface.
      if (isH2 && n < PREFACE.length) return;
      socket.off('data', onData);
      socket.pause();
      socket.unshift(seen);
      if (isH2) {
        // Http2Session takes over the handle and reads what is buffered on the socket first.
        h2.emit('connection', socket);
      } else {
        // The HTTP/1.1 server listens for 'data' but never resumes a paused socket itself.
        h1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
  });

  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(options.port, options.host, () => {
      front.off('error', reject);
      resolve();
    });
  });
  const address = front.address() as net.AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    async close() {
      const closed = new Promise<void>((resolve) => front.close(() => resolve()));
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      h1.closeAllConnections();
      await closed;
    },
  };
}
