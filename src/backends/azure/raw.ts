// Chat completions as a raw HTTP pass-through: the request body serialised once and sent with
// undici's dispatcher (https://undici.nodejs.org/#/docs/api/Dispatcher?id=dispatcherdispatchoptions-handler)
// over a keep-alive pool per upstream origin, the response body handed on as the buffers the socket
// read. The SDK's fetch path (WHATWG Request/Response, a body stream that undici tees, header
// objects, signal composition) and node:http's ClientRequest/IncomingMessage streams both cost more
// CPU per call than this: in bench/, a node:http client spent ~40 µs more per request than the
// dispatcher. Same wire as the SDK clients in client.ts: the same URL, auth header and api-version.
import { APIUserAbortError } from 'openai';
import { Agent } from 'undici';
import { GatewayError, upstreamConnectTimeout } from '../../errors.js';
import type { Cancellation } from '../cancellation.js';
import type { PollableIterator } from '../../streaming/pollable.js';
import { isConnectTimeout } from './connect.js';

export interface RawChatOptions {
  /** The chat completions URL for an upstream model (Azure: the deployment). */
  url(upstreamModel: string): string;
  /** Auth (and any fixed) headers. */
  headers: Record<string, string>;
  /** Until the response headers arrive, like the SDK's timeout. */
  timeoutMs: number;
  /** A new connection, TLS handshake included (connect.ts). */
  connectMs: number;
  /** Keep-alive connections per upstream origin; requests beyond it queue. */
  maxSockets?: number;
}

/** The response body: read once, either whole or chunk by chunk. */
export interface UpstreamBody {
  /** The whole body as UTF-8 text; rejects if the upstream breaks off (or the call is aborted). */
  text(): Promise<string>;
  /** The body's buffers as they arrive. Stopping (`return()`) once the whole response has arrived
   * keeps the connection for the next call; stopping before cancels the upstream request. */
  chunks(): PollableIterator<Buffer>;
}

export interface RawResponse {
  status: number;
  /** The response head as undici read it: name, value, name, value… (names as sent, any case);
   * response.ts's exposedHeaders picks the few the gateway shows. */
  rawHeaders: readonly Buffer[];
  body: UpstreamBody;
}

/** `cancel` rather than an AbortSignal: the gateway's calls have none unless an SDK asks (cancellation.ts). */
export type RawChat = (options: { upstreamModel: string; body: string; cancel: Cancellation }) => Promise<RawResponse>;

const abortError = () => Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' });

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** Buffered body bytes above which the socket is paused until the reader catches up. */
const HIGH_WATER = 256 * 1024;

interface Target {
  origin: string;
  path: string;
}

export function rawChat(options: RawChatOptions): RawChat {
  // Timeouts are ours (connect, headers) and the resilience layer's (first token, idle, total):
  // undici's own headers and body timeouts are off, as node:http had none.
  const agent = new Agent({ connections: options.maxSockets ?? 256, pipelining: 1, headersTimeout: 0, bodyTimeout: 0, connect: { timeout: options.connectMs } });
  const headers = { ...options.headers, 'content-type': 'application/json', accept: 'application/json' };

  // Where each upstream model's calls go, parsed once: the URL comes from config, so the set is small.
  const targets = new Map<string, Target>();
  const targetOf = (upstreamModel: string): Target => {
    let target = targets.get(upstreamModel);
    if (!target) {
      const url = new URL(options.url(upstreamModel));
      target = { origin: url.origin, path: `${url.pathname}${url.search}` };
      targets.set(upstreamModel, target);
    }
    return target;
  };

  return ({ upstreamModel, body, cancel }) =>
    new Promise<RawResponse>((resolve, reject) => {
      if (cancel.aborted) return reject(new APIUserAbortError());
      const target = targetOf(upstreamModel);
      const call = new UpstreamCall(cancel, resolve, reject, options);
      agent.dispatch({ origin: target.origin, path: target.path, method: 'POST', headers, body }, call);
    });
}

/** One call: the dispatch handler, the response head's promise and the body's buffer. A class, so
 * a call allocates one object rather than a closure per callback.
 *
 * It is a handler of undici's first kind (onConnect, onHeaders, onData, onComplete, onError), which
 * undici's core calls as it is: one of the newer kind (onRequestStart, onResponseStart…) is wrapped
 * in undici's UnwrapHandler, which turns every response header into a string on arrival
 * (parseHeaders: ~16 k instructions a call for the benchmark upstream's 7 headers, callgrind), where
 * the gateway reads a few (response.ts reads their names in the bytes first).
 * https://github.com/nodejs/undici/blob/main/docs/docs/api/Dispatcher.md#dispatcherdispatchoptions-handler */
class UpstreamCall implements UpstreamBody {
  private abortRequest: ((err?: Error) => void) | undefined;
  private resumeSocket: (() => void) | undefined;
  /** onData said "stop": undici holds the socket until resumeSocket(). */
  private paused = false;
  private readonly timer: NodeJS.Timeout;
  private headed = false;
  /** Body buffers not yet read, and their bytes. */
  private queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  /** text() wants the whole body anyway: the socket is never paused for it. */
  private whole = false;
  private error: Error | undefined;
  /** The reader waiting for the next buffer, the end or an error. */
  private wake: (() => void) | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly given: Cancellation,
    private readonly resolve: (response: RawResponse) => void,
    private readonly reject: (err: unknown) => void,
    private readonly options: RawChatOptions,
  ) {
    this.timer = setTimeout(() => this.cancel(new GatewayError({ status: 504, message: 'The upstream did not answer in time.', type: 'timeout_error', code: 'upstream_timeout' })), options.timeoutMs);
    this.unsubscribe = given.onAbort(() => this.cancel(this.abortedError()));
  }

  /** Ends the call from our side: before the head the promise rejects with `err`; after it the body does. */
  private cancel(err: Error): void {
    if (this.ended || this.error) return;
    this.fail(err);
    // Aborting destroys the connection: the upstream sees it close and stops generating.
    this.abortRequest?.(err);
  }

  private fail(err: Error): void {
    this.error = err;
    this.settle();
    if (!this.headed) this.reject(err);
    this.wakeReader();
  }

  /** The call is over either way: its timer and abort listener go. */
  private settle(): void {
    clearTimeout(this.timer);
    this.unsubscribe();
  }

  /** What an abort surfaces as: before the head, the SDK's abort (as the SDK transport throws);
   * after it, the body ends with an AbortError, as fetch's does. */
  private abortedError(): Error {
    return this.headed ? abortError() : new APIUserAbortError();
  }

  /** Until the next buffer, the end or an error arrives. */
  private change(): Promise<void> {
    return new Promise<void>((resolve) => (this.wake = resolve));
  }

  private wakeReader(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortRequest = abort;
    // Cancelled while it waited for a connection.
    if (this.error) abort(this.error);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    this.resumeSocket = resume;
    if (statusCode < 200 || this.error) return true; // 1xx: the final head follows
    this.headed = true;
    clearTimeout(this.timer);
    this.resolve({ status: statusCode, rawHeaders, body: this });
    return true;
  }

  /** false asks undici to stop reading the socket until resumeSocket(). */
  onData(chunk: Buffer): boolean {
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.queued > HIGH_WATER && !this.whole) this.paused = true;
    this.wakeReader();
    return !this.paused;
  }

  onComplete(): void {
    this.ended = true;
    this.settle();
    this.wakeReader();
  }

  private resume(): void {
    this.paused = false;
    this.resumeSocket?.();
  }

  onError(err: Error): void {
    if (this.error) return; // our own cancel, already reported
    if (this.given.aborted) this.fail(this.abortedError());
    else if (this.headed) this.fail(err);
    else if (isConnectTimeout(err)) this.fail(upstreamConnectTimeout(this.options.connectMs, err));
    else this.fail(new GatewayError({ status: 502, message: 'The upstream could not be reached.', code: 'upstream_unreachable', cause: err }));
  }

  async text(): Promise<string> {
    this.whole = true;
    if (this.paused) this.resume();
    while (!this.ended) {
      if (this.error) throw this.error;
      await this.change();
    }
    const parts = this.queue;
    this.queue = [];
    this.queued = 0;
    return (parts.length === 1 ? parts[0]! : Buffer.concat(parts)).toString('utf8');
  }

  /** The next buffer or the end, if it has arrived; undefined while the body is still coming (or it broke: next() throws that). */
  private arrived(): IteratorResult<Buffer, undefined> | undefined {
    const chunk = this.queue.shift();
    if (chunk !== undefined) {
      this.queued -= chunk.length;
      if (this.paused && this.queued <= HIGH_WATER / 2) this.resume();
      return { done: false, value: chunk };
    }
    return this.ended && this.error === undefined ? DONE : undefined;
  }

  chunks(): PollableIterator<Buffer> {
    let finished = false;
    const iterator: PollableIterator<Buffer> = {
      poll: () => {
        if (finished) return DONE;
        const result = this.arrived();
        if (result?.done) finished = true;
        return result;
      },
      next: async () => {
        if (finished) return DONE;
        for (;;) {
          const result = this.arrived();
          if (result !== undefined) {
            if (result.done) finished = true;
            return result;
          }
          if (this.error) {
            finished = true;
            throw this.error;
          }
          await this.change();
        }
      },
      // Not async: it does its work at once, and a caller that need not wait for it need not await.
      return: () => {
        if (!finished) {
          finished = true;
          // Left before the end: cancel the upstream. After it the connection is already back in the pool.
          if (!this.ended) this.cancel(abortError());
          this.queue = [];
        }
        return Promise.resolve(DONE);
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}
