// Keep-alive agents whose new connections must be up within `connectMs` (resilience.timeouts.connectMs):
// connected for http, and for https through the TLS handshake too. The SDK handler's own
// `connectionTimeout` stops counting at the TCP connect, so a stalled handshake would wait for the
// socket's idle timeout. Node's Agent makes every new socket in `createConnection`, and only there:
// a socket reused from the pool is not timed again.
// https://nodejs.org/api/http.html#agentcreateconnectionoptions-callback
import { Agent as HttpAgent, type AgentOptions, type ClientRequestArgs } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions, type RequestOptions } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { upstreamConnectTimeout } from '../../errors.js';

type Callback = (err: Error | null, stream: Duplex) => void;

/** Destroys `socket` with the gateway's connect timeout unless it emits `ready` within `ms`. The
 * request on it fails with that error, which the SDK and error.ts pass on as it is. */
function timeConnect(socket: Duplex | null | undefined, ms: number, ready: 'connect' | 'secureConnect'): Duplex | null | undefined {
  if (!socket || !(socket as Socket).connecting) return socket;
  let done = false;
  // Decided after the loop's poll phase, as undici does: a connect that a blocked loop has not
  // handled yet when the timer fires still counts (https://github.com/nodejs/undici/issues/3410).
  const expire = () => setImmediate(() => done || socket.destroy(upstreamConnectTimeout(ms)));
  const timer = setTimeout(expire, ms);
  const clear = () => {
    done = true;
    clearTimeout(timer);
    socket.off(ready, clear).off('close', clear);
  };
  socket.once(ready, clear).once('close', clear);
  return socket;
}

export class ConnectTimedHttpAgent extends HttpAgent {
  constructor(
    options: AgentOptions,
    private readonly connectMs: number,
  ) {
    super(options);
  }

  override createConnection(options: ClientRequestArgs, callback?: Callback): Duplex | null | undefined {
    return timeConnect(super.createConnection(options, callback), this.connectMs, 'connect');
  }
}

export class ConnectTimedHttpsAgent extends HttpsAgent {
  constructor(
    options: HttpsAgentOptions,
    private readonly connectMs: number,
  ) {
    super(options);
  }

  override createConnection(options: RequestOptions, callback?: Callback): Duplex | null | undefined {
    return timeConnect(super.createConnection(options, callback), this.connectMs, 'secureConnect');
  }
}
