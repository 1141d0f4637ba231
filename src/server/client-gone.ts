// Tells when the client has gone away before its response finished. Under @hono/node-server the
// Node response's own 'close' event says it, the same test the adapter uses to abort `c.req.raw.signal`
// (https://github.com/honojs/node-server, makeCloseHandler): listening there instead of on the
// signal spares the request an AbortSignal, which on Node 20 costs tens of µs to create and to
// listen on (an EventTarget). Elsewhere (`app.request()`, other runtimes) the signal is used.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { Context } from 'hono';
import { GatewayError } from '../errors.js';

interface NodeBindings {
  incoming: IncomingMessage | Http2ServerRequest;
  outgoing: ServerResponse | Http2ServerResponse;
}

const nodeBindings = (env: unknown): NodeBindings | undefined => {
  const b = env as Partial<NodeBindings> | undefined;
  return b?.outgoing && typeof (b.outgoing as ServerResponse).once === 'function' && b.incoming ? (b as NodeBindings) : undefined;
};

/** Calls `onGone` once if the client leaves (or its connection breaks) before the response has
 * been written in full; returns the function that stops listening. */
export function onClientGone(c: Context, onGone: () => void): () => void {
  const node = nodeBindings(c.env);
  if (node) {
    const { incoming, outgoing } = node;
    if (outgoing.destroyed && !outgoing.writableFinished) {
      onGone();
      return () => {};
    }
    const onClose = () => {
      if (incoming.errored || !outgoing.writableFinished || (incoming instanceof Http2ServerRequest && incoming.aborted)) onGone();
    };
    (outgoing as ServerResponse).once('close', onClose);
    return () => (outgoing as ServerResponse).removeListener('close', onClose);
  }
  const signal = c.req.raw.signal;
  if (signal.aborted) {
    onGone();
    return () => {};
  }
  signal.addEventListener('abort', onGone, { once: true });
  return () => signal.removeEventListener('abort', onGone);
}

/** The client's departure as a request sees it: `abort` gets a 499 `client_closed` when the client
 * leaves (or when `leave()` is called, e.g. by a cancelled response stream), `gone` says whether it
 * did, `stop()` ends the watch once the response is complete. */
export class ClientWatch {
  gone = false;
  readonly stop: () => void;

  constructor(
    c: Context,
    private readonly target: { abort(reason: unknown): void },
  ) {
    this.stop = onClientGone(c, this.leave);
  }

  readonly leave = (): void => {
    this.gone = true;
    this.target.abort(new GatewayError({ status: 499, message: 'Client closed the request.', code: 'client_closed' }));
  };
}
