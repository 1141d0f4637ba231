// Shapes shared by the Responses API files: the document store it persists into, and the stored
// record of one response. https://platform.openai.com/docs/api-reference/responses
import type { ChatMessage } from '../../backends/types.js';

/** A tenant-scoped document store with expiry. The session store implements it; tests use a map. */
export interface DocumentStore {
  putDocument(tenant: string, kind: 'response', id: string, doc: unknown, ttlSeconds: number): Promise<void>;
  getDocument(tenant: string, kind: 'response', id: string): Promise<unknown | undefined>;
  deleteDocument(tenant: string, kind: 'response', id: string): Promise<boolean>;
}

/** The Response object as the API returns it (fields the gateway fills; see response.ts). */
export type ResponseObject = Record<string, unknown> & {
  id: string;
  object: 'response';
  status: 'in_progress' | 'completed' | 'incomplete' | 'failed';
  previous_response_id: string | null;
  output: OutputItem[];
};

export type OutputItem = MessageOutputItem | FunctionCallOutputItem;

export interface MessageOutputItem {
  id: string;
  type: 'message';
  role: 'assistant';
  status: 'in_progress' | 'completed' | 'incomplete';
  content: { type: 'output_text'; text: string; annotations: unknown[]; logprobs: unknown[] }[];
}

export interface FunctionCallOutputItem {
  id: string;
  type: 'function_call';
  status: 'in_progress' | 'completed' | 'incomplete';
  call_id: string;
  name: string;
  arguments: string;
}

/** An input item as `GET /v1/responses/{id}/input_items` lists it: normalised, with an id. */
export type InputItemResource = Record<string, unknown> & { id: string; type: string };

/**
 * One stored response. Each record holds only what its own turn added, never the history before it:
 *  - `messages`: this turn's chat messages (the translated input, then the assistant reply), kept in
 *    chat form so later turns never re-translate them;
 *  - `chain`: the ids of up to CHAIN_WINDOW nearest predecessors, oldest first (the last one is
 *    `response.previous_response_id`), so a later turn fetches them in parallel instead of walking
 *    back one round trip per turn. See store.ts for the cost per turn.
 */
export interface StoredResponse {
  v: 1;
  response: ResponseObject;
  inputItems: InputItemResource[];
  messages: ChatMessage[];
  chain: string[];
}
