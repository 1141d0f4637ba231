// The facts routing rules may test, read once from a request whose body the server has already
// parsed. Pure and cheap: no I/O, no clock, the body is referenced, never copied or parsed again.

/** Case-insensitive header lookup over either a fetch `Headers` or a record whose names are already
 * lower-cased, as node's `IncomingHttpHeaders` are (the record is not copied to normalise it). */
export interface HeaderReader {
  get(name: string): string | undefined;
}

export type SessionSource = 'header' | 'previous_response_id' | 'conversation' | 'body';

export interface RequestFacts {
  /** Upper-case. */
  method: string;
  /** Path without the query string. */
  path: string;
  headers: HeaderReader;
  tenant: string | undefined;
  /** The parsed body as the server holds it (same reference), or undefined. */
  body: unknown;
  model: string | undefined;
  stream: boolean;
  user: string | undefined;
  metadata: Record<string, unknown> | undefined;
  /** `tools` is a non-empty array. */
  hasTools: boolean;
  previousResponseId: string | undefined;
  /** `conversation` as a string id, or the `id` of a `{ id }` object (Responses API). */
  conversation: string | undefined;
  /** `store` when the body sets it to a boolean. */
  store: boolean | undefined;
  sessionId: string | undefined;
  sessionSource: SessionSource | undefined;
}

export interface RequestFactsInput {
  method: string;
  path: string;
  headers: Headers | Record<string, string | string[] | undefined>;
  tenant?: string | undefined;
  /** Already-parsed JSON (undefined when there is no body). Never parsed here. */
  body?: unknown;
  /** From the `sessions` config section. */
  sessions: { header: string; bodyField?: string | undefined };
}

/**
 * Session id precedence, first non-empty wins:
 *   1. the session header (`sessions.header`, default `x-session-id`) — the gateway's own, explicit contract;
 *   2. `previous_response_id` — the Responses API chain the client is continuing;
 *   3. `conversation` (string or `{ id }`) — the Responses API conversation object;
 *   4. the body field named by `sessions.bodyField` (e.g. `metadata.session_id`).
 * An empty string, null or a non-string value does not count.
 */
export function requestFacts(input: RequestFactsInput): RequestFacts {
  const headers = headerReader(input.headers);
  const body = isRecord(input.body) ? input.body : undefined;

  const previousResponseId = nonEmptyString(body?.previous_response_id);
  const conv = body?.conversation;
  const conversation = nonEmptyString(conv) ?? (isRecord(conv) ? nonEmptyString(conv.id) : undefined);

  let sessionId: string | undefined;
  let sessionSource: SessionSource | undefined;
  const fromHeader = nonEmptyString(headers.get(input.sessions.header)?.trim());
  if (fromHeader) {
    sessionId = fromHeader;
    sessionSource = 'header';
  } else if (previousResponseId) {
    sessionId = previousResponseId;
    sessionSource = 'previous_response_id';
  } else if (conversation) {
    sessionId = conversation;
    sessionSource = 'conversation';
  } else if (input.sessions.bodyField && body) {
    sessionId = nonEmptyString(readPath(body, sessionPath(input.sessions.bodyField)));
    if (sessionId) sessionSource = 'body';
  }

  const q = input.path.indexOf('?');
  const tools = body?.tools;
  return {
    method: input.method.toUpperCase(),
    path: q === -1 ? input.path : input.path.slice(0, q),
    headers,
    tenant: input.tenant,
    body: input.body,
    model: typeof body?.model === 'string' ? body.model : undefined,
    stream: body?.stream === true,
    user: typeof body?.user === 'string' ? body.user : undefined,
    metadata: isRecord(body?.metadata) ? body.metadata : undefined,
    hasTools: Array.isArray(tools) && tools.length > 0,
    previousResponseId,
    conversation,
    store: typeof body?.store === 'boolean' ? body.store : undefined,
    sessionId,
    sessionSource,
  };
}

export function headerReader(headers: Headers | Record<string, string | string[] | undefined>): HeaderReader {
  if (typeof (headers as Headers).get === 'function' && typeof (headers as Headers).has === 'function') {
    const h = headers as Headers;
    return { get: (name) => h.get(name) ?? undefined };
  }
  const record = headers as Record<string, string | string[] | undefined>;
  return {
    get(name) {
      const value = record[name] ?? record[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/** A dotted body path split once, at config load: numeric segments also index arrays, negative
 * ones from the end. */
export type BodyPath = readonly PathSegment[];
interface PathSegment {
  key: string;
  /** The segment as an array index, NaN if it is not an integer. */
  index: number;
  /** Also a property of Object.prototype ("constructor", "toString", …): checked with hasOwn. */
  inherited: boolean;
}

export const splitPath = (dotted: string): BodyPath =>
  dotted.split('.').map((key) => {
    const n = Number(key);
    return { key, index: Number.isInteger(n) ? n : NaN, inherited: key in Object.prototype };
  });

/** Follows a split path through objects and arrays; undefined when any step is missing. */
export function readPath(value: unknown, path: BodyPath): unknown {
  let cur = value;
  for (let i = 0; i < path.length; i++) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const seg = path[i]!;
    if (Array.isArray(cur)) {
      if (Number.isNaN(seg.index)) return undefined;
      cur = cur[seg.index < 0 ? cur.length + seg.index : seg.index];
    } else if (seg.inherited && !Object.hasOwn(cur, seg.key)) {
      return undefined;
    } else {
      cur = (cur as Record<string, unknown>)[seg.key];
    }
  }
  return cur;
}

// The session body field comes from the config: split it once per distinct value, not per request.
const sessionPaths = new Map<string, BodyPath>();
const sessionPath = (dotted: string): BodyPath => {
  let path = sessionPaths.get(dotted);
  if (!path) sessionPaths.set(dotted, (path = splitPath(dotted)));
  return path;
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmptyString = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
