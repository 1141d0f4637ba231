// Object ids in OpenAI's style (`resp_…`, `msg_…`, `fc_…`): a prefix and 192 random bits in hex.
// Response ids are also storage keys, so they must not be guessable.
import { randomBytes } from 'node:crypto';

export const newId = (prefix: 'resp' | 'msg' | 'fc' | 'fco' | 'call'): string => `${prefix}_${randomBytes(24).toString('hex')}`;
