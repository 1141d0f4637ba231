// The connect timeout (resilience.timeouts.connectMs) of both transports. undici's connector bounds
// a new connection, DNS, TCP and the TLS handshake included, and fails it with a ConnectTimeoutError
// (code UND_ERR_CONNECT_TIMEOUT), which becomes the gateway's 504 upstream_connect_timeout. undici
// checks it on its coarse clock (lib/util/timers.js, ~0.5 s ticks): it fires up to ~1 s late.
// https://github.com/nodejs/undici/blob/main/docs/docs/api/Client.md#parameter-connectoptions
// https://github.com/nodejs/undici/blob/main/docs/docs/api/Errors.md
import type { ClientOptions } from 'openai';
import { Agent, fetch as undiciFetch } from 'undici';
import { upstreamConnectTimeout } from '../../errors.js';

/** True when `err`, or an error it was caused by, is undici's connect timeout. */
export function isConnectTimeout(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++)
    if ((e as { code?: unknown }).code === 'UND_ERR_CONNECT_TIMEOUT') return true;
  return false;
}

/** The openai SDK clients' `fetch` and `fetchOptions`: undici's own fetch over an agent with the
 * connect timeout. The fetch comes from the same undici as the dispatcher, as openai-node asks: Node's
 * global fetch is another undici copy, and undici changes its dispatch-handler interface between
 * majors. https://github.com/openai/openai-node#configuring-proxies */
export function sdkTransport(connectMs: number): Pick<ClientOptions, 'fetch' | 'fetchOptions'> {
  const dispatcher = new Agent({ connect: { timeout: connectMs } });
  // openai-node wraps what fetch throws in an APIConnectionError (as its cause, which error.ts
  // unwraps), unless the error or its direct cause reads as a timeout: then it throws its own
  // causeless APIConnectionTimeoutError instead (makeRequest in
  // https://github.com/openai/openai-node/blob/master/src/client.ts). Hence the wording of
  // upstreamConnectTimeout, and undici's ConnectTimeoutError kept two levels down.
  const fetch = (url: string | URL | Request, init?: RequestInit) =>
    undiciFetch(url as never, init as never).catch((err: unknown) => {
      throw isConnectTimeout(err) ? upstreamConnectTimeout(connectMs, err) : err;
    });
  return { fetch: fetch as unknown as ClientOptions['fetch'], fetchOptions: { dispatcher } as ClientOptions['fetchOptions'] };
}
