// A stateful chat turn: lock the tenant's session, load and reconcile its history with the
// client's messages, let the call run, commit the new messages and the reply only on success.
// A failed, cancelled or disconnected turn leaves the session exactly as it was.
import type { ChatMessage } from '../backends/types.js';
import { GatewayError } from '../errors.js';
import { reconcile, type SessionStore } from '../sessions/index.js';
import { replyFromChunks, replyFromCompletion } from './assistant-reply.js';
import type { Turn } from './exchange.js';

export interface OpenTurnInput {
  tenant: string;
  sessionId: string;
  messages: unknown[];
  signal: AbortSignal;
  stream: boolean;
}

const SESSION_ID = /^[A-Za-z0-9._:@-]{1,256}$/;

export function sessionTurns(store: SessionStore): (input: OpenTurnInput) => Promise<Turn> {
  return async function openTurn({ tenant, sessionId, messages, signal, stream }) {
    if (!SESSION_ID.test(sessionId))
      throw new GatewayError({ status: 400, message: 'The session id must be 1–256 characters of letters, digits and . _ : @ -.', param: 'x-session-id', code: 'invalid_session_id' });
    const key = { tenant, id: sessionId };
    const unlock = await store.lock(key, { signal });
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await unlock();
    };
    try {
      const stored = await store.load(key);
      const r = reconcile(stored, messages as ChatMessage[]);
      return {
        messages: r.context,
        historyLength: r.historyLength,
        history: { key: `${tenant.length}:${tenant}:${sessionId}`, hashes: r.hashes },
        collectsChunks: stream,
        async commit(result) {
          const reply = result.body ? replyFromCompletion(result.body) : replyFromChunks(result.chunks ?? []);
          await store.commit(key, { keep: r.keep, append: reply ? [...r.append, reply] : r.append, expectedLength: stored?.length ?? 0 });
        },
        release,
      };
    } catch (err) {
      await release();
      throw err;
    }
  };
}
