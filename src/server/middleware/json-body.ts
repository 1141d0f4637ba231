// Reads a request body once, enforcing the size limit while it streams in (so a chunked body with
// no Content-Length cannot exceed it either) or, when it came whole with its head, before taking it;
// then parses it as JSON once for every later step.
import { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { MiddlewareHandler } from 'hono';
import { GatewayError, invalidRequest } from '../../errors.js';
import type { AppEnv } from '../context.js';

const tooLarge = (limit: number) =>
  new GatewayError({ status: 413, message: `Request body too large: the limit is ${limit} bytes.`, code: 'request_too_large' });

const EMPTY = new Uint8Array(0);

export async function readLimited(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array> {
  if (!body) return EMPTY;
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    // A client that hangs up mid-upload makes the read fail: that is the client's doing, not a 500.
    const { done, value } = await reader.read().catch((cause: unknown) => {
      throw clientClosed(cause);
    });
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    parts.push(value);
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
}

const clientClosed = (cause?: unknown) =>
  new GatewayError({ status: 499, message: 'The client closed the connection before the request body ended.', code: 'client_closed', cause });

/** The same from the Node request itself (under @hono/node-server), skipping the WHATWG stream
 * the adapter would build around it. Events rather than `for await`: an async iterator over a
 * Readable costs a promise per chunk and more setup than the one small body it reads here. An
 * oversized body is left unread (paused); the adapter drains it. */
export function readLimitedNode(incoming: IncomingMessage, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const stop = () => {
      incoming.removeListener('data', onData);
      incoming.removeListener('end', onEnd);
      incoming.removeListener('error', onError);
      incoming.removeListener('close', onClose);
    };
    const onData = (part: Buffer) => {
      size += part.byteLength;
      if (size > limit) {
        stop();
        incoming.pause();
        reject(tooLarge(limit));
      } else parts.push(part);
    };
    const onEnd = () => {
      stop();
      resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts, size));
    };
    // A client that hangs up mid-upload ("aborted") is the client's doing, not a 500.
    const onError = (err: unknown) => {
      stop();
      reject(clientClosed(err));
    };
    const onClose = () => {
      stop();
      reject(clientClosed());
    };
    incoming.on('data', onData);
    incoming.once('end', onEnd);
    incoming.once('error', onError);
    incoming.once('close', onClose);
  });
}

/** The whole body when it is already in the request's buffer, else undefined. A small request
 * usually arrives with its head in one socket read; node's parser emits the request when the head
 * is parsed and pushes the rest of that read's body right after (hence the caller's microtask). The
 * body is whole when the parser has ended the message, or when it holds the bytes the head declared:
 * node buffers no more than that for one request, and ends it later (in a scratch server, head and
 * body in one write: not complete a microtask and a nextTick after the event, complete by the next
 * setImmediate). Then one synchronous read() takes it, with no listeners to add and remove and no
 * promise (readLimitedNode's way): 0.362 → 0.351 M instructions a streamed request (callgrind,
 * bench/instructions.ts; per function the listeners' part, 6–10 k, in three pairs). The stream is
 * set flowing afterwards, so the end the parser reports is still emitted. Over the limit the body
 * is refused unread, as readLimitedNode refuses it. */
export function arrivedBody(incoming: IncomingMessage, limit: number): Uint8Array | undefined {
  if (!(incoming instanceof IncomingMessage)) return undefined;
  const buffered = incoming.readableLength;
  if (!incoming.complete && buffered !== Number(incoming.headers['content-length'])) return undefined;
  if (buffered > limit) throw tooLarge(limit);
  const bytes = (incoming.read() as Buffer | null) ?? EMPTY;
  incoming.resume();
  return bytes;
}

const nodeRequest = (env: unknown): IncomingMessage | undefined => {
  const incoming = (env as { incoming?: unknown } | undefined)?.incoming;
  return incoming instanceof Readable && !incoming.readableDidRead ? (incoming as IncomingMessage) : undefined;
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Nesting depth check before JSON.parse, so hostile nesting never reaches the parser or what walks
 * its result; and, in the same pass, the keys written plainly at the top level. Returns that count
 * (every key of a top-level object whose name has no escape in it, a repeated one counted each
 * time), or -1 when the bytes nest deeper than `max`. On the UTF-8 bytes: a multi-byte character
 * has no byte below 0x80, so the brackets, quotes, commas and backslashes are the text's; and a
 * byte is read straight, where TurboFan reads each character of a string through a dispatch on its
 * representation (for the benchmark's 130-byte body 1.4 k instructions fewer in a micro-benchmark,
 * ~0.9 k in the gateway's count; callgrind). */
export function scanJson(bytes: Uint8Array, max: number): number {
  let depth = 0;
  let inString = false;
  let keys = 0;
  // At depth 1, after `{` or `,`: the next string is a key.
  let keyNext = false;
  // In a top-level key that has no escape so far.
  let plainKey = false;
  for (let i = 0; i < bytes.length; i++) {
    const ch = bytes[i]!;
    if (inString) {
      if (ch === 92 /* \\ */) {
        i++;
        plainKey = false;
      } else if (ch === 34 /* " */) {
        inString = false;
        if (plainKey) keys++;
        plainKey = false;
      }
    } else if (ch === 34) {
      inString = true;
      plainKey = keyNext;
      keyNext = false;
    } else if (ch === 123 /* { */ || ch === 91 /* [ */) {
      if (++depth > max) return -1;
      keyNext = depth === 1;
    } else if (ch === 125 /* } */ || ch === 93 /* ] */) depth--;
    else if (ch === 44 /* , */ && depth === 1) keyNext = true;
  }
  return keys;
}

/** The own keys of a plain object, counted without making their array. */
function ownKeyCount(value: object): number {
  let n = 0;
  for (const key in value) if (Object.hasOwn(value, key)) n++;
  return n;
}

export interface JsonBodyOptions {
  /** Read per request, so a config reload applies at once. */
  limits: () => { bodyLimitBytes: number; maxJsonDepth: number };
}

export function jsonBody(options: JsonBodyOptions): MiddlewareHandler<AppEnv> {
  if (typeof options.limits !== 'function') throw new Error('jsonBody: limits must be a function returning the current limits');
  return async function jsonBodyMiddleware(c, next) {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'DELETE') return next();
    const { bodyLimitBytes: limit, maxJsonDepth } = options.limits();
    const incoming = nodeRequest(c.env);
    let bytes: Uint8Array | undefined;
    if (incoming) {
      // This runs inside node's 'request' event, which its parser emits once the head is parsed and
      // before it parses the rest of the same socket read: one microtask later, after that read.
      await undefined;
      bytes = arrivedBody(incoming, limit);
    }
    if (bytes === undefined) {
      // Node's own parsed header where there is one: @hono/node-server's Headers checks the name
      // and lowercases it, then copies and walks the raw header list for a header like this one.
      const declared = Number(incoming ? incoming.headers['content-length'] : c.req.header('content-length'));
      if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
      bytes = incoming ? await readLimitedNode(incoming, limit) : await readLimited(c.req.raw.body, limit);
    }
    if (bytes.byteLength === 0) throw invalidRequest('The request body is empty; expected a JSON object.');
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw invalidRequest('The request body is not valid UTF-8.');
    }
    const keysWritten = scanJson(bytes, maxJsonDepth);
    if (keysWritten === -1) throw invalidRequest(`The JSON body is nested more than ${maxJsonDepth} levels deep.`, null, 'json_too_deep');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw invalidRequest(`We could not parse the JSON body of your request: ${(err as Error).message}`, null, 'invalid_json');
    }
    c.set('body', body);
    // The text too, when its top-level keys are the body's, each written once and plainly: JSON.parse
    // keeps a repeated key's last value, and an upstream that read the first would not see what the
    // gateway checked (a max_tokens under the tenant's ceiling, say); and a name written with an
    // escape could hide from a search of the text (azure/request.ts). See context.ts.
    if (typeof body === 'object' && body !== null && !Array.isArray(body) && ownKeyCount(body) === keysWritten) c.set('bodySource', { body, text });
    // Awaited, not returned: an async function that returns a promise adopts it through two more
    // microtasks and a `then` call (ECMAScript's NewPromiseResolveThenableJob).
    await next();
  };
}
