// Writes a streamed reply as text/event-stream, honouring the fault's pacing and cut.
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { SSE_DONE, sseData } from '../../streaming/sse.js';
import type { Fault } from './faults.js';

export async function writeEventStream(res: ServerResponse, chunks: string[], fault: Fault | undefined): Promise<void> {
  const cutAfter = fault?.cutAfterChunks;
  const pause = fault?.delayBetweenChunksMs ?? 0;
  res.flushHeaders();
  for (let i = 0; i < chunks.length; i++) {
    if (cutAfter !== undefined && i >= cutAfter) return cut(res, fault);
    if (i > 0 && pause > 0) await sleep(pause);
    if (res.destroyed) return; // the client went away
    res.write(sseData(chunks[i] as string));
  }
  if (cutAfter !== undefined && cutAfter >= chunks.length && fault?.resetConnection) return cut(res, fault);
  res.end(SSE_DONE);
}

/** Ends the reply early: cleanly (a short but well-formed HTTP response), or by destroying the
 * socket once what was written has left, so the client sees those events and then a reset. */
async function cut(res: ServerResponse, fault: Fault | undefined): Promise<void> {
  if (!fault?.resetConnection) {
    res.end();
    return;
  }
  await new Promise<void>((resolve) => res.write('', () => resolve()));
  await sleep(20);
  res.socket?.destroy();
}
