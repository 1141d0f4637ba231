// Request step for stateful turns: the translation of a session's stored history, kept between
// turns, so that a turn translates, serialises and hashes only what is new.
//
// Every turn sends the whole history upstream. Without this, each turn translated every stored
// message to Converse, wrote the JSON of all of them and hashed it for SigV4: work growing with the
// session. Here a session's history is kept as
//   head:     the request body up to the last Converse message of the history, as bytes
//             (`{"messages":[m0,m1,…,` — body.ts writes every body in that order) and the SHA-256
//             state after those bytes; the messages themselves are not kept, only their count and
//             the first one's role;
//   tail:     that last Converse message, not serialised: the turn's first message may merge
//             into it (same role), and the history cache point goes at its end;
//   system blocks and tool names the history contributed.
// A turn extends what was kept for the previous turn by the messages stored since (the last user
// message and the reply), then continues with its new messages, the way translateMessages would
// over the whole conversation, and sends head + the rest, with the payload hash taken from a copy
// of the kept state. The body is byte for byte the one toConverseInput + converseBody give, and the
// input the end of that input (test/backends/bedrock/history.test.ts checks both over random
// sessions); the input's `messages` then hold only what follows the head, and the whole body
// travels with it (client.ts `withPreparedBody`).
//
// A session's heads share one append-only buffer (`HeadBytes`): a turn writes only the bytes its
// new messages add, after the previous head, where nothing was written yet, instead of copying the
// whole head into a new buffer every turn (that copy was a history-sized allocation per turn, kept
// until the next major GC). Bytes a head covers never change once written; a second continuation
// of the same head (a retried turn, a fork that kept it) finds the space after it taken and copies.
//
// What is kept is validated by the session's chain hashes (equal hash of message i ⇒ equal
// messages 0…i), so a fork, an edited turn, another replica's commit or a full-history resend that
// changed something simply misses and translates from scratch. Entries are immutable; a turn
// builds a new one. The cache is per backend, keyed by session (tenant included), bounded in bytes
// (`historyCacheBytes`), and keeps only histories whose head is at least MIN_KEPT_BYTES: short
// sessions cost little to translate and keep nothing.
import { createHash, type Hash } from 'node:crypto';
import type { ConversationRole, Message, SystemContentBlock } from '@aws-sdk/client-bedrock-runtime';
import { LRUCache } from 'lru-cache';
import type { ChatMessage, HistoryRef } from '../types.js';
import { BODY_START, converseBody, messagesJson } from './body.js';
import { finishMessages, translateInto, type TranslatedMessages } from './messages.js';
import { checkBody, completeInput, toConverseInput, type ConverseInput, type ConverseRequestOptions } from './request.js';

/** Heads shorter than this are not kept. */
export const MIN_KEPT_BYTES = 4096;
/** Heap of an entry besides its head and tail: the entry, hash state, key, LRU node (measured, rounded up). */
const BYTES_PER_ENTRY = 1024;

/** A body already written, with its SHA-256 (hex) for SigV4's `x-amz-content-sha256`. */
export interface PreparedBody {
  body: Buffer;
  sha256: string;
}

/** Room a new head buffer leaves to grow into, as a share of what it holds: a session's turns then
 * copy its head O(log n) times in all, not once per turn. */
const HEAD_GROWTH = 0.5;

/** The buffer behind a session's heads: each head is `bytes[0, head.length)`, and `used` is the
 * longest any head reaches; bytes before `used` are never written again. */
export interface HeadBytes {
  bytes: Buffer;
  used: number;
}

/** `head` (a view of `store`) followed by `added`: written in place when `head` is the newest head of
 * its buffer and `added` fits after it, else into a new buffer with room to grow. */
export function appendHead(store: HeadBytes, head: Buffer, added: string): { store: HeadBytes; head: Buffer } {
  const length = head.length + Buffer.byteLength(added);
  if (store.used !== head.length || length > store.bytes.length) {
    const bytes = Buffer.allocUnsafeSlow(Math.ceil(length * (1 + HEAD_GROWTH)));
    head.copy(bytes);
    store = { bytes, used: head.length };
  }
  store.bytes.write(added, head.length);
  store.used = length;
  return { store, head: store.bytes.subarray(0, length) };
}

/** The translation of a session's first `length` messages. Never mutated once built (its head's
 * bytes included: later heads only write after them). */
interface Kept {
  length: number;
  /** Chain hash of message `length - 1`. */
  hash: string;
  /** Converse messages before the tail, written in `head` (`BODY_START` + each one's JSON + ','). */
  done: number;
  /** Role of the first Converse message, when `done > 0`. */
  firstRole: ConversationRole | undefined;
  head: Buffer;
  /** The buffer `head` is a view of. */
  store: HeadBytes;
  /** SHA-256 state after `head`: only ever `copy()`ed. */
  headHash: Hash;
  tail: Message | undefined;
  system: readonly SystemContentBlock[];
  toolNames: readonly string[];
}

const EMPTY_HEAD = Buffer.from(BODY_START);
// Full (`used` is its length): every session's first head is written into a buffer of its own.
const EMPTY: Kept = { length: 0, hash: '', done: 0, firstRole: undefined, head: EMPTY_HEAD, store: { bytes: EMPTY_HEAD, used: EMPTY_HEAD.length }, headHash: createHash('sha256').update(EMPTY_HEAD), tail: undefined, system: [], toolNames: [] };

const copyMessage = (m: Message): Message => ({ role: m.role, content: [...(m.content ?? [])] });

/** A translation state continuing after `kept`: the tail is copied, since messages may merge into it. */
const resume = (kept: Kept): TranslatedMessages => ({
  system: [...kept.system],
  messages: kept.tail ? [copyMessage(kept.tail)] : [],
  spans: [],
  toolNames: new Set(kept.toolNames),
});

/** `kept` extended over `messages[kept.length..length)`, stored messages whose chain hash at
 * `length - 1` is `hash`. */
function extend(kept: Kept, messages: readonly ChatMessage[], length: number, hash: string): Kept {
  if (length === kept.length) return kept;
  const out = resume(kept);
  translateInto(out, messages, kept.length, length);
  const finished = out.messages.slice(0, -1);
  let { head, store, headHash } = kept;
  if (finished.length > 0) {
    const added = `${messagesJson(finished).slice(1, -1)},`;
    ({ head, store } = appendHead(store, head, added));
    headHash = headHash.copy().update(added);
  }
  const tail = out.messages.at(-1);
  if (tail) Object.freeze(Object.freeze(tail).content);
  return {
    length,
    hash,
    done: kept.done + finished.length,
    firstRole: kept.done > 0 ? kept.firstRole : finished[0]?.role,
    head,
    store,
    headHash,
    tail,
    system: out.system,
    toolNames: [...out.toolNames],
  };
}

// The whole buffer counts: its room to grow is memory too.
const keptBytes = (kept: Kept) => kept.store.bytes.length + (kept.tail ? messagesJson([kept.tail]).length * 2 : 0) + BYTES_PER_ENTRY;

export interface ConverseRequest {
  /** With `body`: the input without the messages written in the kept head. */
  input: ConverseInput;
  /** Set when the body was written here (from a kept head); otherwise body.ts writes it from `input`. */
  body?: PreparedBody;
}

export class HistoryCache {
  readonly #kept: LRUCache<string, Kept> | undefined;
  readonly #minKeptBytes: number;

  /** `maxBytes` 0 keeps nothing (every turn translates its whole history). `minKeptBytes` (tests):
   * the shortest head kept. */
  constructor(maxBytes: number, options: { minKeptBytes?: number } = {}) {
    this.#kept = maxBytes > 0 ? new LRUCache<string, Kept>({ maxSize: maxBytes, sizeCalculation: keptBytes }) : undefined;
    this.#minKeptBytes = options.minKeptBytes ?? MIN_KEPT_BYTES;
  }

  /** Bytes counted against `maxBytes` (for tests and measurements). */
  get bytes(): number {
    return this.#kept?.calculatedSize ?? 0;
  }

  /** Kept sessions (for tests). */
  get size(): number {
    return this.#kept?.size ?? 0;
  }

  /** The head kept for a session, without refreshing it (for tests). */
  keptHead(key: string): Buffer | undefined {
    return this.#kept?.peek(key)?.head;
  }

  /** The Converse input for a call, as toConverseInput gives it, or, for a stateful turn, its body
   * written from the kept history and the input after the head. */
  request(options: ConverseRequestOptions, history: HistoryRef | undefined): ConverseRequest {
    const { body } = options;
    const length = options.historyLength;
    const usable = this.#kept !== undefined && history !== undefined && length !== undefined && history.hashes.length >= length;
    if (!usable) return { input: toConverseInput(options) };
    checkBody(body);
    if (length > body.messages.length) return { input: toConverseInput(options) };

    const kept = this.#keptFor(history, body.messages, length);
    const out = resume(kept);
    // The history cache point goes after the history's last block: the end of the tail.
    if (kept.tail) out.spans.push({ original: length - 1, message: 0, end: kept.tail.content?.length ?? 0 });
    translateInto(out, body.messages, length, body.messages.length);
    finishMessages(out, { count: kept.done, firstRole: kept.firstRole });
    const input = completeInput(out, options);

    // converseBody(input) is `BODY_START` + these messages + the other members: what follows the head.
    const rest = Buffer.from(converseBody(input).slice(BODY_START.length));
    return { input, body: { body: Buffer.concat([kept.head, rest]), sha256: kept.headHash.copy().update(rest).digest('hex') } };
  }

  /** What is kept for messages[0..length), from what was kept for the session (when it is still a
   * prefix of them) or from scratch; kept for the next turn if long enough. A history too short to
   * keep may still be the start of a long conversation sent in one request (a client migrating a
   * session, or its first full-history turn): then the whole conversation sent is kept instead, and
   * the next turn, whose history it is (plus the reply), starts from it. */
  #keptFor(history: HistoryRef, messages: readonly ChatMessage[], length: number): Kept {
    const cache = this.#kept!;
    const previous = cache.get(history.key);
    const usable = previous !== undefined && previous.length <= length && history.hashes[previous.length - 1] === previous.hash;
    const kept = length === 0 ? EMPTY : extend(usable ? previous : EMPTY, messages, length, history.hashes[length - 1]!);
    if (kept === previous) return kept;
    let keep: Kept | undefined = kept;
    if (kept.head.length < this.#minKeptBytes) {
      const sent = Math.min(messages.length, history.hashes.length);
      keep = sent > length ? extend(kept, messages, sent, history.hashes[sent - 1]!) : undefined;
      if (keep && keep.head.length < this.#minKeptBytes) keep = undefined;
    }
    if (keep) cache.set(history.key, keep);
    else if (previous !== undefined) cache.delete(history.key);
    return kept;
  }
}
