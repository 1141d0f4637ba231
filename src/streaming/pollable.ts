// An async iterator that can also say, without an await, what has already arrived. An upstream's
// answer often arrives whole in one socket read, before anyone asks for it: an await of each read
// cost a promise, a microtask and a resume in each async function between the socket and the reader.

export interface PollableIterator<T> extends AsyncIterableIterator<T> {
  /** The next result when it has arrived (a value, or the end); undefined when `next()` would have to
   * wait, or would throw. */
  poll(): IteratorResult<T, undefined> | undefined;
  /** Does its work at once and never rejects: a caller need not await it. */
  return(): Promise<IteratorResult<T, undefined>>;
}

export const isPollable = <T>(iterator: AsyncIterator<T>): iterator is PollableIterator<T> =>
  typeof (iterator as Partial<PollableIterator<T>>).poll === 'function';
