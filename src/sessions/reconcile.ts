// History reconciliation for /v1/chat/completions with a session: pure, no I/O.
//
// Clients differ: some resend the whole conversation every turn (the OpenAI habit), some send only
// the new messages and let the gateway keep the history. The gateway tells them apart by comparing
// chain hashes (hash.ts) of the incoming messages with the stored ones: k = the longest common
// prefix. S = stored length, n = incoming length; "system" below means role system or developer.
//
//   (a) full-history   k = S: the client sent the whole stored history (and usually more).
//                      keep S, append incoming[S:], context = stored + incoming[S:].
//                      stored [sys,u1,a1]  incoming [sys,u1,a1,u2]  → append [u2]
//                      An empty store is this case too: keep 0, append everything.
//   (b) new-only       k = 0, or the common prefix is only the stored leading system message(s)
//                      (clients that send only new messages often repeat the system prompt):
//                      keep S, append incoming[k:], context = stored + incoming[k:].
//                      stored [sys,u1,a1]  incoming [u2]      → append [u2], context [sys,u1,a1,u2]
//                      stored [sys,u1,a1]  incoming [sys,u2]  → append [u2], context [sys,u1,a1,u2]
//                      stored [sys,u1,a1]  incoming [sys',u2] → append [sys',u2] (a changed system
//                      prompt is a new message; the backend decides how to place it)
//   (c) fork           0 < k < S past the leading system messages, then divergence (an edited turn)
//                      or the end of the incoming messages (regenerate): keep k, append incoming[k:],
//                      context = stored[:k] + incoming[k:].
//                      stored [sys,u1,a1,u2,a2]  incoming [sys,u1,a1,u2']  → keep 3, append [u2']
//                      stored [sys,u1,a1,u2,a2]  incoming [sys,u1,a1,u2]   → keep 4, append [] (regenerate a2)
//   Empty incoming messages: 400.
//
// Known ambiguities, resolved as above on purpose:
//   - A full-history client that edits the *first* user message ([sys,u1'] against [sys,u1,a1])
//     looks like a new-only client repeating its system prompt: it is treated as new-only.
//     Without a system prompt ([u1'] against [u1,a1]) it is a new-only turn too (k = 0).
//   - A new-only client whose new message equals the first stored message forks at 1.
//   - A full-history client that drops or changes the system prompt shares nothing (k = 0) and is
//     treated as new-only; the history is then duplicated in context. Delete the session instead.
//
// historyLength is how many messages at the start of `context` are stored history (the backend puts
// its prompt-cache point right after them); that prefix is made of the stored message objects, so
// it is byte-identical turn after turn. `hashes` are the chain hashes of `context`, as the store will
// have them once the turn commits (a backend uses them to keep its translation of the history).
import type { ChatMessage } from '../backends/types.js';
import { invalidRequest } from '../errors.js';
import { chainHashes } from './hash.js';

export type ReconcileMode = 'new-only' | 'full-history' | 'fork';

export interface Reconciled {
  /** Stored messages to keep (less than the stored length only for a fork). */
  keep: number;
  /** The client's new messages, to commit after `keep` together with the reply. */
  append: ChatMessage[];
  /** The full conversation to send upstream. */
  context: ChatMessage[];
  /** How many messages at the start of `context` are stored history. */
  historyLength: number;
  /** Chain hashes of `context` (the stored ones, then those the commit will give `append`). */
  hashes: string[];
  mode: ReconcileMode;
}

export interface StoredHistory {
  messages: readonly ChatMessage[];
  hashes: readonly string[];
}

const isSystem = (m: ChatMessage | undefined) => m?.role === 'system' || m?.role === 'developer';

export function reconcile(stored: StoredHistory | undefined, incoming: readonly ChatMessage[]): Reconciled {
  if (incoming.length === 0) throw invalidRequest('messages must contain at least one message.', 'messages', 'empty_messages');
  const messages = stored?.messages ?? [];
  const hashes = stored?.hashes ?? [];
  const S = messages.length;
  if (hashes.length !== S) throw new Error(`reconcile: stored history has ${S} messages but ${hashes.length} hashes`);

  const incomingHashes = chainHashes(incoming);
  const k = commonPrefix(hashes, incomingHashes);
  const rest = incoming.slice(k);
  // incoming[0..k) equals stored[0..k), so incoming's chain from k on continues the stored one.
  const continued = () => incomingHashes.slice(k);

  if (k === S) return { keep: S, append: rest, context: [...messages, ...rest], historyLength: S, hashes: [...hashes, ...continued()], mode: 'full-history' };

  let leadingSystem = 0;
  while (leadingSystem < S && isSystem(messages[leadingSystem])) leadingSystem++;
  if (k <= leadingSystem) {
    const appended = chainHashes(rest, hashes[S - 1] ?? '');
    return { keep: S, append: rest, context: [...messages, ...rest], historyLength: S, hashes: [...hashes, ...appended], mode: 'new-only' };
  }

  return { keep: k, append: rest, context: [...messages.slice(0, k), ...rest], historyLength: k, hashes: [...hashes.slice(0, k), ...continued()], mode: 'fork' };
}

/** Length of the common prefix of two chain-hash lists. A chain hash covers everything before it,
 * so equality is monotone along the list and a bisection finds the boundary. */
export function commonPrefix(a: readonly string[], b: readonly string[]): number {
  let lo = 0; // a[0..lo) equals b[0..lo)
  let hi = Math.min(a.length, b.length);
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1; // does the prefix of length mid match?
    if (a[mid - 1] === b[mid - 1]) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
