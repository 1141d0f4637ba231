// Generators of malformed and hostile requests for the fuzz suite: right shapes with wrong types at
// every field, huge and odd strings, deep nesting, invalid UTF-8, truncated JSON, odd headers and
// paths, and raw HTTP/1.1 byte streams for the socket cases.
import fc from 'fast-check';

export const GOOD_KEY = 'sk-limits-acme-0123456789';

/** Anything JSON can hold, plus values that look like attacks. */
const hostileScalar = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1e308, -0, 2 ** 53 + 1, '', ' ', '__proto__', 'constructor', '\u0000', '\ud800', '%00', '../../etc/passwd', 'http://169.254.169.254/', '<script>', '${jndi:x}', "'; DROP TABLE x; --"),
  fc.integer(),
  fc.double(),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({ maxLength: 16 }),
);
const hugeString = fc.integer({ min: 1, max: 200_000 }).map((n) => 'A'.repeat(n));
const anyValue = fc.oneof({ weight: 6, arbitrary: hostileScalar }, { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }) }, { weight: 1, arbitrary: hugeString });
/** The field as the API wants it, or anything at all. */
const field = <T>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 2, arbitrary: good }, { weight: 1, arbitrary: anyValue });

const role = field(fc.constantFrom('user', 'system', 'assistant', 'tool', 'developer'));
const contentPart = fc.record(
  { type: field(fc.constantFrom('text', 'image_url', 'input_text', 'input_image')), text: field(fc.string()), image_url: field(fc.record({ url: field(fc.constantFrom('data:image/png;base64,AAAA', 'https://x/y.png')) })) },
  { requiredKeys: [] },
);
const message = fc.oneof(
  fc.record(
    { role, content: field(fc.oneof(fc.string(), fc.array(contentPart, { maxLength: 3 }))), name: field(fc.string()), tool_call_id: field(fc.string()), tool_calls: field(fc.array(fc.jsonValue(), { maxLength: 2 })) },
    { requiredKeys: ['role'] },
  ),
  anyValue,
);
const outputSize = field(fc.integer({ min: 1, max: 10_000 }));

export const chatBody = fc.record(
  {
    model: field(fc.constantFrom('gpt-4o', 'claude', 'no-such-model')),
    messages: field(fc.array(message, { maxLength: 5 })),
    stream: field(fc.boolean()),
    stream_options: field(fc.record({ include_usage: field(fc.boolean()) }, { requiredKeys: [] })),
    max_tokens: outputSize,
    max_completion_tokens: outputSize,
    temperature: field(fc.double({ min: 0, max: 2, noNaN: true })),
    tools: field(fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 2 })),
    n: field(fc.integer({ min: 1, max: 3 })),
    metadata: field(fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 })),
  },
  { requiredKeys: [] },
);

const inputItem = fc.oneof(
  fc.record({ type: field(fc.constantFrom('message', 'function_call', 'function_call_output', 'item_reference')), role, content: field(fc.oneof(fc.string(), fc.array(contentPart, { maxLength: 2 }))), call_id: field(fc.string()), output: field(fc.string()), id: field(fc.string()) }, { requiredKeys: [] }),
  anyValue,
);
export const responsesBody = fc.record(
  {
    model: field(fc.constantFrom('gpt-4o', 'claude')),
    input: field(fc.oneof(fc.string(), fc.array(inputItem, { maxLength: 4 }))),
    instructions: field(fc.string()),
    previous_response_id: field(fc.constantFrom('resp_0123456789abcdef0123456789abcdef', 'resp_x', '')),
    stream: field(fc.boolean()),
    store: field(fc.boolean()),
    max_output_tokens: outputSize,
    tools: field(fc.array(fc.record({ type: field(fc.constant('function')), name: field(fc.string()), parameters: field(fc.jsonValue({ maxDepth: 3 })) }, { requiredKeys: [] }), { maxLength: 2 })),
    text: field(fc.record({ format: field(fc.record({ type: field(fc.constantFrom('text', 'json_object', 'json_schema')) }, { requiredKeys: [] })) }, { requiredKeys: [] })),
    tool_choice: anyValue,
  },
  { requiredKeys: [] },
);
export const embeddingsBody = fc.record(
  { model: field(fc.constantFrom('gpt-4o', 'text-embedding-3-small')), input: field(fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 }), fc.array(fc.integer(), { maxLength: 5 }))), dimensions: field(fc.integer()) },
  { requiredKeys: [] },
);

/** A valid body with one field set to anything: what a client with one bug sends. */
const VALID: Record<string, unknown>[] = [
  { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] },
  { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true } },
  { model: 'gpt-4o', input: 'Hi' },
  { model: 'gpt-4o', input: [{ role: 'user', content: 'Hi' }], stream: true },
  { model: 'gpt-4o', input: 'embed me' },
];
const nearValid = fc
  .tuple(fc.constantFrom(...VALID), fc.option(fc.tuple(fc.constantFrom('model', 'messages', 'input', 'stream', 'max_tokens', 'max_output_tokens', 'max_completion_tokens', 'tools', 'stream_options', 'store', 'instructions', 'previous_response_id'), anyValue)))
  .map(([valid, change]) => (change ? { ...valid, [change[0]]: change[1] } : valid));

const deepNesting = fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.constantFrom('[', '{"a":')).map(([n, open]) => open.repeat(n) + '1' + (open === '[' ? ']' : '}').repeat(n));
const encoder = new TextEncoder();

/** A body as bytes: hostile JSON, truncated JSON, invalid UTF-8, deep nesting, random bytes, nothing. */
export const bodyBytes = fc.oneof(
  { weight: 6, arbitrary: fc.oneof(chatBody, responsesBody, embeddingsBody).map((v) => encoder.encode(JSON.stringify(v))) },
  { weight: 5, arbitrary: nearValid.map((v) => encoder.encode(JSON.stringify(v))) },
  { weight: 1, arbitrary: fc.tuple(chatBody, fc.double({ min: 0, max: 1, noNaN: true })).map(([v, f]) => { const b = encoder.encode(JSON.stringify(v)); return b.slice(0, Math.floor(b.length * f)); }) },
  { weight: 1, arbitrary: fc.tuple(chatBody, fc.uint8Array({ minLength: 1, maxLength: 4 })).map(([v, junk]) => { const s = JSON.stringify(v); const at = s.indexOf('"', 2) + 1; return Buffer.concat([encoder.encode(s.slice(0, at)), Buffer.from(junk.map((b) => b | 0x80)), encoder.encode(s.slice(at))]); }) },
  { weight: 1, arbitrary: deepNesting.map((s) => encoder.encode(s)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => encoder.encode(JSON.stringify(v) ?? '')) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
);

const ROUTES = ['/v1/chat/completions', '/v1/responses', '/v1/embeddings', '/v1/models', '/v1/models/gpt-4o', '/v1/sessions/s1', '/v1/responses/resp_0123456789abcdef0123456789abcdef', '/v1/responses/resp_x/input_items', '/healthz', '/readyz', '/metrics', '/', '/v1', '/v1/', '/v2/chat/completions', '/v1/chat/completions/', '/V1/CHAT/COMPLETIONS', '/v1//chat/completions', '/v1/../admin', '/%2e%2e/metrics', '/v1/chat%2Fcompletions'];
const querySuffix = fc.oneof(
  fc.constant(''),
  fc.constantFrom(`?api-key=${GOOD_KEY}`, `?key=${GOOD_KEY}`, '?api-version=2024-10-21', '?stream=true', '?a=1&a=2', '?%zz=%zz', '?limit=-1&order=x&after=y'),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 16 }), { maxKeys: 3 }).map((d) => '?' + new URLSearchParams(d).toString()),
);
const randomSegment = fc.string({ unit: 'binary', minLength: 1, maxLength: 24 }).map((s) => encodeURIComponent(s));
export const path = fc
  .tuple(fc.oneof({ weight: 4, arbitrary: fc.constantFrom('/v1/chat/completions', '/v1/responses', '/v1/embeddings') }, { weight: 4, arbitrary: fc.constantFrom(...ROUTES) }, { weight: 1, arbitrary: randomSegment.map((s) => `/v1/sessions/${s}`) }, { weight: 1, arbitrary: randomSegment.map((s) => `/v1/responses/${s}`) }, { weight: 1, arbitrary: randomSegment.map((s) => `/v1/${s}`) }), querySuffix)
  .map(([p, q]) => p + q);

export const method = fc.oneof({ weight: 5, arbitrary: fc.constant('POST') }, { weight: 3, arbitrary: fc.constantFrom('GET', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD') });

/** Header values the Fetch API lets a client send (no CR/LF, no NUL): the raw-socket cases send the rest. */
const headerValue = fc.oneof(fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n\0]/g, '')), fc.constantFrom('', ' ', 'a'.repeat(4000), 'Bearer', 'Bearer  ', `Bearer ${GOOD_KEY} extra`, `bearer ${GOOD_KEY}`));
export const headers = fc
  .record(
    {
      authorization: fc.oneof({ weight: 6, arbitrary: fc.constant(`Bearer ${GOOD_KEY}`) }, { weight: 1, arbitrary: headerValue }, { weight: 1, arbitrary: fc.constant(`Bearer ${GOOD_KEY}, Bearer sk-wrong`) }),
      'api-key': headerValue,
      'content-type': fc.oneof(fc.constantFrom('application/json', 'text/plain', 'application/json; charset=latin1', 'multipart/form-data; boundary=x'), headerValue),
      'x-session-id': fc.oneof(fc.constantFrom('s1', 's2', 'a'.repeat(300), '../s1', '*'), headerValue),
      'x-request-id': fc.oneof(fc.constantFrom('same-id', 'a'.repeat(200)), headerValue),
      'content-encoding': fc.constantFrom('gzip', 'br', 'identity'),
      cookie: headerValue,
      'x-forwarded-host': headerValue,
      'x-stateroute-route': headerValue,
      'api-version': headerValue,
    },
    { requiredKeys: ['authorization'] },
  )
  .map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>);

// --- raw HTTP/1.1 for the socket cases ---

const crlfValue = fc.constantFrom('a\rb', 'a\nInjected: yes', 'a\r\nInjected: yes', '\r\n\r\nGET / HTTP/1.1', 'a\0b', '\x7f', 'caf\xe9', ' folded\r\n continued');
const rawHeaderLines = fc.array(
  fc.oneof(
    fc.tuple(fc.constantFrom('X-A', 'x-session-id', 'Authorization', 'api-key', 'Content-Type', 'x-request-id', 'Bad Name', 'Bad:Name', ''), fc.oneof(headerValue, crlfValue)).map(([k, v]) => `${k}: ${v}`),
    fc.constantFrom('Content-Length: 5', 'Content-Length: -1', 'Content-Length: 1e3', 'Content-Length: 99999999999', 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked', 'Transfer-Encoding: identity', 'Expect: 100-continue', 'Connection: keep-alive', 'Upgrade: websocket', 'Host: evil.example', 'NoColonHere', `Authorization: Bearer ${GOOD_KEY}`, `Authorization: Bearer ${GOOD_KEY}`),
  ),
  { maxLength: 6 },
);

export interface RawCase {
  bytes: Buffer;
  note: string;
}

const chunked = (body: Uint8Array, broken: number) => {
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += 7) {
    const c = body.subarray(i, i + 7);
    parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), Buffer.from(c), Buffer.from('\r\n'));
  }
  const end = ['0\r\n\r\n', 'zz\r\n\r\n', '0\r\n', 'ffffffffffffffff\r\nabc', '5;ext=1\r\nhello\r\n0\r\n\r\n', ''][broken % 6]!;
  return Buffer.concat([...parts, Buffer.from(end)]);
};

/** A whole request as bytes: a request line (sometimes broken), headers (duplicated, odd, CR/LF), a body (chunked, truncated, too long). */
export const rawRequest: fc.Arbitrary<RawCase> = fc
  .record({
    method: fc.oneof({ weight: 4, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'FOO', 'G ET', '', 'CONNECT', 'TRACE', 'post') }),
    target: fc.oneof({ weight: 4, arbitrary: path }, { weight: 1, arbitrary: fc.constantFrom('*', 'http://evil.example/v1/models', '/v1/chat/completions#frag', '/v1/\u00e9', '/ spaced', '//', '/v1/chat/completions?api-key=' + GOOD_KEY) }),
    version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1x', ''),
    auth: fc.boolean(),
    lines: rawHeaderLines,
    body: bodyBytes,
    framing: fc.constantFrom('length', 'length', 'chunked', 'short', 'long', 'none'),
    broken: fc.nat(),
  })
  .map(({ method, target, version, auth, lines, body, framing, broken }) => {
    const head = [`${method} ${target} ${version}`, 'Host: 127.0.0.1', 'Connection: close', ...(auth ? [`Authorization: Bearer ${GOOD_KEY}`, 'Content-Type: application/json'] : []), ...lines];
    let payload: Buffer = Buffer.from(body);
    if (framing === 'length') head.push(`Content-Length: ${body.length}`);
    else if (framing === 'short') head.push(`Content-Length: ${body.length + 10}`); // truncated: the client stops early
    else if (framing === 'long') head.push(`Content-Length: ${Math.max(0, body.length - 3)}`); // extra bytes after the body
    else if (framing === 'chunked') {
      head.push('Transfer-Encoding: chunked');
      payload = chunked(body, broken);
    }
    return { bytes: Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n', 'latin1'), payload]), note: `${method} ${target} ${version} ${framing}` };
  });
