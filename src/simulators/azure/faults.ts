// Faults on demand: tests queue them, the next matching request(s) get them.

export interface Fault {
  /** Only requests whose path contains this string (or matches this pattern). Default: any. */
  path?: string | RegExp;
  /** Answer with this status instead of the normal reply (with `body`, JSON-encoded unless a string). */
  status?: number;
  /** Extra response headers (with `status`, or merged into the normal reply). */
  headers?: Record<string, string>;
  body?: unknown;
  delayBeforeHeadersMs?: number;
  /** Pause between SSE events of a streamed reply. */
  delayBetweenChunksMs?: number;
  /** Stop a streamed reply after this many `data:` events, without `[DONE]`: the response ends
   * cleanly, or the socket is destroyed when `resetConnection` is also set. */
  cutAfterChunks?: number;
  /** Destroy the socket: before any byte, or after `cutAfterChunks` events. */
  resetConnection?: boolean;
  /** How many matching requests get this fault (default 1). */
  times?: number;
}

export class FaultQueue {
  #queue: { fault: Fault; left: number }[] = [];

  push(...faults: Fault[]): void {
    for (const fault of faults) this.#queue.push({ fault, left: fault.times ?? 1 });
  }

  clear(): void {
    this.#queue = [];
  }

  get pending(): number {
    return this.#queue.length;
  }

  /** The first queued fault that matches `path`, consuming one of its uses. */
  take(path: string): Fault | undefined {
    const index = this.#queue.findIndex(({ fault }) =>
      fault.path === undefined ? true : typeof fault.path === 'string' ? path.includes(fault.path) : fault.path.test(path),
    );
    const entry = this.#queue[index];
    if (!entry) return undefined;
    if (--entry.left <= 0) this.#queue.splice(index, 1);
    return entry.fault;
  }
}
