// Gateway keys: held as digests, found by comparing whole digests. Keys given in the config as a
// sha256 hex digest must match the same plaintext key as keys given as `key`.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bearerKey, findKey, keyIndex, sha256 } from '../../../src/server/middleware/auth.js';

const hex = (key: string) => createHash('sha256').update(key).digest('hex');

describe('keyIndex + findKey', () => {
  const keys = keyIndex({
    mode: 'keys',
    keys: [
      { name: 'plain', tenant: 'acme', key: 'sk-acme-0123456789' },
      { name: 'hashed', tenant: 'globex', sha256: hex('sk-globex-0123456789') },
    ],
  });

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

describe('findKey compares whole digests', () => {
  it('a digest that differs from the presented key\'s in any one character is no match', () => {
    const right = sha256('sk-acme-0123456789');
    expect(findKey([{ name: 'k', tenant: 't', digest: right }], 'sk-acme-0123456789')?.tenant).toBe('t');
    for (const at of [0, 1, 21, 42, 43]) {
      const wrong = `${right.slice(0, at)}${right[at] === 'A' ? 'B' : 'A'}${right.slice(at + 1)}`;
      expect(findKey([{ name: 'k', tenant: 't', digest: wrong }], 'sk-acme-0123456789')).toBeUndefined();
    }
    expect(findKey([{ name: 'k', tenant: 't', digest: right.slice(0, -1) }], 'sk-acme-0123456789')).toBeUndefined();
  });
});

describe('bearerKey (gateway keys and the admin key alike)', () => {
  it('takes the key of a Bearer header, any case and spacing, and nothing else', () => {
    expect(bearerKey('Bearer sk-1')).toBe('sk-1');
    expect(bearerKey('bearer \t sk-1 ')).toBe('sk-1');
    for (const other of [undefined, '', 'Bearer', 'Bearer ', 'Basic sk-1', 'Bearer sk-1 sk-2', 'sk-1']) expect(bearerKey(other)).toBeUndefined();
  });
});
