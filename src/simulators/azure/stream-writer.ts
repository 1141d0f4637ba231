// Writes a streamed reply as text/event-stream, honouring the fault's pacing and cut.
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { SSE_DONE, sseData } from '../../streaming/sse.js';
import type { Fault } from './faults.js';

/** `fault` is the request's fault (empty when none) with the simulator's default pause filled in. */
export async function writeEventStream(res: ServerResponse, chunks: string[], fault: Fault): Promise<void> {
  const { cutAfterChunks, delayBetweenChunksMs = 0 } = fault;
  res.flushHeaders();
  for (let i = 0; i < chunks.length; i++) {
    if (cutAfterChunks !== undefined && i >= cutAfterChunks) return cut(res, fault);
    if (i > 0 && delayBetweenChunksMs > 0) await sleep(delayBetweenChunksMs);
    if (res.destroyed) return; // the client went away
    res.write(sseData(chunks[i] as string));
  }
  if (cutAfterChunks !== undefined && fault.resetConnection) return cut(res, fault);
  res.end(SSE_DONE);
}

/** Ends the reply early: cleanly (a short but well-formed HTTP response), or by destroying the
 * socket once what was written has left, so the client sees those events and then a reset. */
async function cut(res: ServerResponse, fault: Fault): Promise<void> {
  if (!fault.resetConnection) {
    res.end();
    return;
  }
  await new Promise<void>((resolve) => res.write('', () => resolve()));
  await sleep(20);
  res.socket?.destroy();
}
