// A map keyed by a fixed-length path of strings, one Map per step. Each lookup hashes the parts,
// which are mostly the same strings every time (bounded label values) and keep their hash; a key
// joined from them was a new string to build, flatten and hash on every request (the lookup with
// what it calls: 5.6 k → 1.1 k instructions a request, callgrind). No separator either, so no two
// paths collide.

type Level = Map<string, unknown>;

export class PathMap<V> {
  #root: Level = new Map();
  #size = 0;

  /** Entries (whole paths) held. */
  get size(): number {
    return this.#size;
  }

  get(path: readonly string[]): V | undefined {
    let level: Level | undefined = this.#root;
    const last = path.length - 1;
    for (let i = 0; i < last && level !== undefined; i++) level = level.get(path[i]!) as Level | undefined;
    return level?.get(path[last]!) as V | undefined;
  }

  set(path: readonly string[], value: V): void {
    let level = this.#root;
    const last = path.length - 1;
    for (let i = 0; i < last; i++) {
      let next = level.get(path[i]!) as Level | undefined;
      if (next === undefined) level.set(path[i]!, (next = new Map()));
      level = next;
    }
    if (!level.has(path[last]!)) this.#size++;
    level.set(path[last]!, value);
  }

  clear(): void {
    this.#root = new Map();
    this.#size = 0;
  }
}
