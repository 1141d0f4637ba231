// Gateway keys: held as digests, found by comparing whole digests. Keys given in the config as a
// sha256 hex digest must match the same plaintext key as keys given as `key`.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { findKey, keyIndex } from '../../../src/server/middleware/auth.js';

const hex = (key: string) => createHash('sha256').update(key).digest('hex');

describe('keyIndex + findKey', () => {
  const keys = keyIndex({
    mode: 'keys',
    keys: [
      { name: 'plain', tenant: 'acme', key: 'sk-acme-0123456789' },
      { name: 'hashed', tenant: 'globex', sha256: hex('sk-globex-0123456789') },
    ],
  } as never);

  it('finds a key given as plaintext and one given as its sha256 hex digest', () => {
    expect(findKey(keys, 'sk-acme-0123456789')?.tenant).toBe('acme');
    expect(findKey(keys, 'sk-globex-0123456789')?.tenant).toBe('globex');
  });

  it('keeps no plaintext key', () => {
    expect(JSON.stringify(keys)).not.toContain('sk-acme');
  });

  it('finds no key for a wrong key, a prefix of a key, a longer key, or the digest itself', () => {
    for (const wrong of ['sk-acme-012345678', 'sk-acme-01234567890', 'sk-acme-0123456780', '', hex('sk-globex-0123456789'), keys[0]!.digest])
      expect(findKey(keys, wrong)).toBeUndefined();
  });
});
