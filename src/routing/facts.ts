// STUB until the routing branch lands.
export interface RequestFacts { method: string; path: string; headers: Record<string, string>; tenant: string; body: unknown; model?: string; sessionId?: string; sessionSource?: string }
export function requestFacts(input: { method: string; path: string; headers: Headers | Record<string, string>; tenant: string; body: unknown; sessions: { header: string; bodyField?: string } }): RequestFacts {
  const h = input.headers instanceof Headers ? Object.fromEntries(input.headers) : input.headers;
  const sessionId = h[input.sessions.header.toLowerCase()];
  return { method: input.method, path: input.path, headers: h, tenant: input.tenant, body: input.body, model: (input.body as { model?: string })?.model, sessionId, sessionSource: sessionId ? 'header' : undefined };
}
