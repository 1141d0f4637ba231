// `item_reference` input items: an earlier response's item named by its id alone, replaced here by
// the stored item before the request is translated. Clients that keep responses stored send them
// for what the model said before: the Vercel AI SDK's default (Responses) provider sends every
// earlier assistant message and function call of a conversation this way while `store` is on.
// https://platform.openai.com/docs/api-reference/responses/create#responses-create-input
import { GatewayError } from '../../errors.js';
import { responseOfItem } from './ids.js';
import type { ResponseStore } from './store.js';
import type { InputItemResource, OutputItem, StoredResponse } from './types.js';
import type { InputItem, ItemReference, ResponsesRequest } from './validate.js';

const isReference = (item: InputItem | ItemReference): item is ItemReference => item.type === 'item_reference';

/** OpenAI's answer for a reference to an item it does not hold (a 404, in its words). */
export const itemNotFound = (id: string) =>
  new GatewayError({
    status: 404,
    message: `Item with id '${id}' not found. Items are not persisted when \`store\` is set to false. Try again with \`store\` set to true, or remove this item from your input.`,
    type: 'invalid_request_error',
    param: 'input',
  });

/** The request with each reference replaced by the item it names, read from this tenant's stored
 * responses (one read per response referenced); a reference that names nothing stored is a 404. */
export async function resolveReferences(store: ResponseStore, tenant: string, req: ResponsesRequest<InputItem | ItemReference>): Promise<ResponsesRequest> {
  const { input } = req;
  if (typeof input === 'string' || !input.some(isReference)) return req as ResponsesRequest;
  const docs = new Map<string, Promise<StoredResponse | undefined>>();
  const read = (responseId: string) => {
    let doc = docs.get(responseId);
    if (!doc) docs.set(responseId, (doc = store.get(tenant, responseId)));
    return doc;
  };
  const resolved = await Promise.all(
    input.map(async (item): Promise<InputItem> => {
      if (!isReference(item)) return item;
      const responseId = responseOfItem(item.id);
      const doc = responseId === undefined ? undefined : await read(responseId);
      const found = doc?.response.output.find((o) => o.id === item.id) ?? doc?.inputItems.find((o) => o.id === item.id);
      if (!found) throw itemNotFound(item.id);
      return asInputItem(found);
    }),
  );
  return { ...req, input: resolved };
}

/** A stored item as the input item it stands for. Output items (an assistant `message` with
 * `output_text` parts, a `function_call`) are valid input items as they are, and so are the stored
 * input items, which were validated when their request came in; `status` is not an input field. */
function asInputItem(item: InputItemResource | OutputItem): InputItem {
  const { status: _status, ...fields } = item as Record<string, unknown>;
  return fields as unknown as InputItem;
}
