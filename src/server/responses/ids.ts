// Object ids in OpenAI's style (`resp_…`, `msg_…`, `fc_…`): a prefix and 192 random bits in hex.
// Response ids are also storage keys, so they must not be guessable. A response's items carry its
// random bits and a count (itemIds), so an item id leads to the one stored response that holds it.
import { randomBytes } from 'node:crypto';

type ItemPrefix = 'msg' | 'fc' | 'fco';

export const newId = (prefix: 'resp' | ItemPrefix | 'call'): string => `${prefix}_${randomBytes(24).toString('hex')}`;

const RESPONSE_ID = /^resp_([0-9a-f]{48})$/;
const ITEM_ID = /^(?:msg|fc|fco)_([0-9a-f]{48})[0-9a-f]{4}$/;

/**
 * Ids for the items of one response (its output, and the input items it stores without an id of
 * their own): `<prefix>_<the response id's random part><4 hex digits, counting>`. An item id thus
 * names the response that holds it, so an `item_reference` (which carries only the item's id) is
 * resolved with one read of that response's stored document, and nothing is indexed per item.
 * The response's id is no secret from whoever holds one of its item ids (both come back in the
 * same Response object), and stored documents are read only within the caller's tenant.
 */
export function itemIds(responseId: string): (prefix: ItemPrefix) => string {
  const random = RESPONSE_ID.exec(responseId)?.[1];
  if (random === undefined) return newId;
  let next = 0;
  return (prefix) => `${prefix}_${random}${(next++ & 0xffff).toString(16).padStart(4, '0')}`;
}

/** The id of the response holding the item `itemId` names, when the gateway made that id (itemIds). */
export function responseOfItem(itemId: string): string | undefined {
  const random = ITEM_ID.exec(itemId)?.[1];
  return random === undefined ? undefined : `resp_${random}`;
}
