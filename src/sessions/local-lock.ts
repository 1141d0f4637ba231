// In-process keyed mutex with a bounded FIFO queue, a wait timeout and lock expiry. Used by the
// memory store (one process holds all its sessions, so nothing more is needed).
import { sessionBusy, type LockOptions, type Unlock } from './store.js';

interface Waiter {
  grant: () => void;
  fail: (err: unknown) => void;
}

interface Held {
  /** Identifies the current holder; a release by an older holder (its lock expired) is ignored. */
  token: number;
  expiry: NodeJS.Timeout;
  queue: Waiter[];
}

/** In one process a holder cannot die without the lock going too: renewing it until holdMs is
 * simply holding it that long. */
const holdFor = (options: LockOptions): number => Math.max(options.ttlMs, options.holdMs ?? 0);

export class KeyedLock {
  #held = new Map<string, Held>();
  #nextToken = 1;

  /** Keys currently locked (for tests and stats). */
  get size(): number {
    return this.#held.size;
  }

  acquire(key: string, options: LockOptions): Promise<Unlock> {
    options.signal?.throwIfAborted();
    const held = this.#held.get(key);
    if (!held) return Promise.resolve(this.#take(key, holdFor(options), []));
    if (held.queue.length >= options.maxQueue) return Promise.reject(sessionBusy('queue'));

    return new Promise<Unlock>((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        const current = this.#held.get(key);
        const i = current ? current.queue.indexOf(waiter) : -1;
        if (i >= 0) current!.queue.splice(i, 1);
      };
      const waiter: Waiter = {
        grant: () => {
          leave();
          resolve(this.#take(key, holdFor(options), held.queue));
        },
        fail: (err) => {
          leave();
          reject(err);
        },
      };
      const onAbort = () => waiter.fail(options.signal!.reason);
      const timer = setTimeout(() => waiter.fail(sessionBusy('timeout')), options.waitMs);
      timer.unref();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      held.queue.push(waiter);
    });
  }

  /** Makes the caller the holder; `queue` carries over the waiters already lined up. */
  #take(key: string, ttlMs: number, queue: Waiter[]): Unlock {
    const token = this.#nextToken++;
    const expiry = setTimeout(() => this.#release(key, token), ttlMs);
    expiry.unref();
    this.#held.set(key, { token, expiry, queue });
    return async () => this.#release(key, token);
  }

  #release(key: string, token: number): void {
    const held = this.#held.get(key);
    if (!held || held.token !== token) return;
    clearTimeout(held.expiry);
    const next = held.queue.shift();
    if (next) {
      // The key stays in the map (with the remaining queue) until the next holder takes it over.
      held.token = 0;
      next.grant();
    } else this.#held.delete(key);
  }
}
