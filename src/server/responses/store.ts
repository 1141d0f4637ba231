// Stored responses and `previous_response_id` chains, on top of a tenant-scoped DocumentStore.
//
// Design: one document per response holding only what that turn added (its chat messages, input
// items and Response object) plus `chain`, the ids of its CHAIN_WINDOW nearest predecessors.
// Cost of turn n of a chain:
//  - write: one put of O(size of this turn) + at most CHAIN_WINDOW ids (≈ 3.5 KB); nothing earlier
//    is rewritten or re-translated;
//  - read:  1 + ceil((n-1)/CHAIN_WINDOW) sequential round trips (the previous response, then its
//    window of ancestors fetched in parallel, then the window before that, …), reading every earlier
//    turn's document once: O(history) bytes, which is also the floor, since the whole conversation
//    goes upstream. Each document is read whole (Response + input items + messages ≈ 3× the turn's
//    text); a store with partial reads could fetch only `messages`.
// A deleted or expired ancestor breaks the chain: continuing it is a 400 naming the missing id,
// never a silently shortened conversation. Documents expire `ttlSeconds` after they were written,
// so an ancestor expires before its descendants.
import type { ChatMessage } from '../../backends/types.js';
import { GatewayError, invalidRequest } from '../../errors.js';
import type { DocumentStore, StoredResponse } from './types.js';

export const CHAIN_WINDOW = 64;
export const DEFAULT_TTL_SECONDS = 30 * 24 * 3600;

const isStored = (doc: unknown): doc is StoredResponse =>
  typeof doc === 'object' && doc !== null && (doc as StoredResponse).v === 1 && Array.isArray((doc as StoredResponse).messages) && Array.isArray((doc as StoredResponse).chain);

/** OpenAI's answer for an unknown, other tenant's or `store: false` previous response. */
export const previousNotFound = (id: string) =>
  invalidRequest(`Previous response with id '${id}' not found.`, 'previous_response_id', 'previous_response_not_found');

/** OpenAI's answer for an unknown response id on retrieve, delete and input_items. */
export const responseNotFound = (id: string) =>
  new GatewayError({ status: 404, message: `Response with id '${id}' not found.`, type: 'invalid_request_error', code: 'not_found' });

export interface History {
  messages: ChatMessage[];
  /** `chain` of a response whose previous is the loaded one. */
  chain: string[];
}

export class ResponseStore {
  constructor(
    private readonly docs: DocumentStore,
    private readonly ttlSeconds: number = DEFAULT_TTL_SECONDS,
  ) {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) throw new Error(`ResponseStore: ttlSeconds must be a positive integer, got ${ttlSeconds}`);
  }

  async get(tenant: string, id: string): Promise<StoredResponse | undefined> {
    const doc = await this.docs.getDocument(tenant, 'response', id);
    return isStored(doc) ? doc : undefined;
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    return this.docs.deleteDocument(tenant, 'response', id);
  }

  async put(tenant: string, doc: StoredResponse): Promise<void> {
    await this.docs.putDocument(tenant, 'response', doc.response.id, doc, this.ttlSeconds);
  }

  /** The conversation up to and including `previousId`, oldest first. */
  async history(tenant: string, previousId: string | null | undefined): Promise<History> {
    if (!previousId) return { messages: [], chain: [] };
    const head = await this.get(tenant, previousId);
    if (!head) throw previousNotFound(previousId);
    const docs = await this.ancestors(tenant, head);
    if (docs.missing)
      throw invalidRequest(
        `Previous response with id '${previousId}' cannot be continued: the earlier response '${docs.missing}' in its chain was deleted or has expired.`,
        'previous_response_id',
        'previous_response_not_found',
      );
    return { messages: [...docs.found, head].flatMap((d) => d.messages), chain: [...head.chain, head.response.id].slice(-CHAIN_WINDOW) };
  }

  /**
   * The stored predecessors of `doc`, oldest first, fetched window by window. When one is missing
   * (deleted or expired), `found` holds the unbroken run after it and `missing` names it.
   */
  async ancestors(tenant: string, doc: StoredResponse): Promise<{ found: StoredResponse[]; missing?: string }> {
    const segments: StoredResponse[][] = [];
    let oldest = doc;
    while (oldest.response.previous_response_id) {
      const ids = oldest.chain.length ? oldest.chain : [oldest.response.previous_response_id];
      const docs = await Promise.all(ids.map((id) => this.get(tenant, id)));
      const missing = docs.findLastIndex((d) => d === undefined);
      if (missing >= 0) {
        segments.unshift(docs.slice(missing + 1) as StoredResponse[]);
        return { found: segments.flat(), missing: ids[missing] };
      }
      segments.unshift(docs as StoredResponse[]);
      oldest = docs[0]!;
    }
    return { found: segments.flat() };
  }
}
