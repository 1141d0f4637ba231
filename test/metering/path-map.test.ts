import { describe, expect, it } from 'vitest';
import { PathMap } from '../../src/metering/path-map.js';

describe('PathMap', () => {
  it('finds a value by its whole path only, and counts whole paths', () => {
    const m = new PathMap<number>();
    m.set(['a', 'b', 'c'], 1);
    m.set(['a', 'b', 'd'], 2);
    m.set(['a', 'x', 'c'], 3);
    m.set(['a', 'b', 'c'], 4); // replaced, not added
    expect([m.get(['a', 'b', 'c']), m.get(['a', 'b', 'd']), m.get(['a', 'x', 'c'])]).toEqual([4, 2, 3]);
    expect([m.get(['a', 'b', 'e']), m.get(['z', 'b', 'c']), m.get(['a', 'y', 'c'])]).toEqual([undefined, undefined, undefined]);
    expect(m.size).toBe(3);
  });

  it('parts that would join to the same text are different paths (a joined key with a separator could not tell them apart)', () => {
    const m = new PathMap<string>();
    m.set(['a\0b', 'c'], 'first');
    m.set(['a', 'b\0c'], 'second');
    expect([m.get(['a\0b', 'c']), m.get(['a', 'b\0c'])]).toEqual(['first', 'second']);
    expect(m.size).toBe(2);
  });

  it('clear empties it', () => {
    const m = new PathMap<number>();
    m.set(['a', 'b'], 1);
    m.clear();
    expect(m.get(['a', 'b'])).toBeUndefined();
    expect(m.size).toBe(0);
  });
});
