// Chat completions as a raw HTTP pass-through: the request body serialised once and written with
// node:http(s) over a keep-alive pool, the response handed back as the Node stream it is. The SDK's
// fetch path (WHATWG Request/Response, a body stream that undici tees, header objects, signal
// composition) cost more CPU per call than everything else the gateway does; see bench/.
// Same wire as the SDK clients in client.ts: the same URL, auth header and api-version.
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { APIUserAbortError } from 'openai';
import { GatewayError } from '../../errors.js';

export interface RawChatOptions {
  /** The chat completions URL for an upstream model (Azure: the deployment). */
  url(upstreamModel: string): string;
  /** Auth (and any fixed) headers. */
  headers: Record<string, string>;
  /** Until the response headers arrive, like the SDK's timeout. */
  timeoutMs: number;
  /** Keep-alive sockets per upstream host; requests beyond it queue. */
  maxSockets?: number;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
}

interface Target {
  request: typeof http.request;
  /** Never mutated: http.request copies its options. */
  options: http.RequestOptions;
}

export type RawChat = (options: { upstreamModel: string; body: string; signal: AbortSignal }) => Promise<RawResponse>;

const abortError = () => Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' });

export function rawChat(options: RawChatOptions): RawChat {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 256, scheduling: 'lifo' as const };
  const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };

  // Where each upstream model's calls go, parsed once: the URL comes from config, so the set is small.
  const targets = new Map<string, Target>();
  const targetOf = (upstreamModel: string): Target => {
    let target = targets.get(upstreamModel);
    if (!target) {
      const url = new URL(options.url(upstreamModel));
      const secure = url.protocol === 'https:';
      target = {
        request: secure ? https.request : http.request,
        options: {
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port,
          path: `${url.pathname}${url.search}`,
          method: 'POST',
          agent: secure ? agents['https:'] : agents['http:'],
        },
      };
      targets.set(upstreamModel, target);
    }
    return target;
  };
  const fixedHeaders = { ...options.headers, 'content-type': 'application/json', accept: 'application/json' };

  return ({ upstreamModel, body, signal }) =>
    new Promise<RawResponse>((resolve, reject) => {
      if (signal.aborted) return reject(new APIUserAbortError());
      const target = targetOf(upstreamModel);
      let settled = false;
      let response: IncomingMessage | undefined;
      const req = target.request({ ...target.options, headers: { ...fixedHeaders, 'content-length': Buffer.byteLength(body) } });
      const timer = setTimeout(() => {
        fail(new GatewayError({ status: 504, message: 'The upstream did not answer in time.', type: 'timeout_error', code: 'upstream_timeout' }));
        req.destroy();
      }, options.timeoutMs);
      const onAbort = () => {
        if (response) return void response.destroy(abortError());
        fail(new APIUserAbortError());
        req.destroy();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        reject(err);
      };
      req.once('error', (err) =>
        fail(signal.aborted ? new APIUserAbortError() : new GatewayError({ status: 502, message: 'The upstream could not be reached.', code: 'upstream_unreachable', cause: err })),
      );
      req.once('response', (res) => {
        settled = true;
        response = res;
        clearTimeout(timer);
        // From here an abort ends the body stream with an AbortError, as fetch does.
        res.once('close', () => signal.removeEventListener('abort', onAbort));
        resolve({ status: res.statusCode ?? 502, headers: res.headers, body: res });
      });
      req.end(body);
    });
}

/** The whole body as text. Events rather than `for await`: an async iterator over a Readable costs
 * a promise per chunk and more setup than the one small body it reads here. */
export function readAll(body: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    body.on('data', (part: Buffer) => parts.push(part));
    body.once('end', () => resolve(parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts).toString('utf8')));
    body.once('error', reject);
    // Destroyed before its end (an abort): 'close' without 'end'.
    body.once('close', () => {
      if (!body.complete) reject(body.errored ?? abortError());
    });
  });
}

/** The body's chunks for a consumer that may stop early. Stopping once the whole response has
 * arrived (the usual end: `[DONE]`, then the chunked terminator in the same read) keeps the socket
 * for the next call; stopping mid-response destroys it, which cancels the upstream generation.
 * A plain iterator reading the stream in paused mode, not `for await` over `res.iterator()`: that
 * sets up an async generator and end-of-stream tracking per response and wraps every read in more
 * promises, where this needs one per read that is not already buffered. */
export function responseChunks(res: IncomingMessage): AsyncIterableIterator<Buffer> {
  let finished = false;
  let wake: (() => void) | undefined;
  const onChange = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  res.on('readable', onChange);
  res.on('end', onChange);
  res.on('error', onChange);
  res.on('close', onChange);
  const iterator: AsyncIterableIterator<Buffer> = {
    async next() {
      for (;;) {
        if (finished) return { done: true, value: undefined };
        const chunk = res.read() as Buffer | null;
        if (chunk !== null) return { done: false, value: chunk };
        if (res.readableEnded) {
          finished = true;
          return { done: true, value: undefined };
        }
        if (res.destroyed) {
          finished = true;
          throw res.errored ?? abortError();
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    async return() {
      if (!finished) {
        finished = true;
        if (res.complete) res.resume();
        else res.destroy();
      }
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
