// The chunks the client reads once a stream has started answering, in the batches they arrived in
// (one async step per upstream read, not per chunk). The idle timeout counts only
// while the gateway waits on the upstream (not while a slow client reads). A failure from here on
// reaches the consumer as the iterator throwing, after the chunks already delivered and never as a
// clean end, unless a fallback marked `acceptsPrefill` can continue the answer from the text
// already sent, in which case only its continuation is streamed.
import { isLastBatch, markLastBatch, type ChatCall, type StreamChunk, type Usage } from '../backends/types.js';
import { GatewayError, isGatewayError } from '../errors.js';
import type { StreamAnswer } from './attempt.js';
import { asContinuation, carriesContent, chunkText, completionId, withUsage } from './chunks.js';
import { classifyFailure } from './retry-policy.js';

const noop = () => {};

export interface Continuation {
  answer: StreamAnswer;
  index: number;
  /** The prefill lost trailing whitespace: drop the leading whitespace of the continuation. */
  trimmed: boolean;
}

export interface RelayOptions {
  first: StreamAnswer;
  firstIndex: number;
  /** Track the text sent, because some later target accepts a prefill. */
  continuable: boolean;
  /** There are targets after the first one (the error then says why none took over). */
  hasFallbacks: boolean;
  /** True when the client went away or the total deadline passed: nothing more is tried. */
  stopped(): boolean;
  /** Asks the next prefill-capable target to continue `sent`; throws when none can. */
  continueFrom(input: { after: number; call: ChatCall; sent: string; error: unknown }): Promise<Continuation>;
  /** A stream that had started answering failed: settle its breaker ticket. */
  onCut(answer: StreamAnswer, error: unknown): void;
  /** What every attempt consumed so far (a continuation's usage chunk reports it). */
  usage(): Usage | undefined;
  onEnd(): void;
}

/** The original failure, said plainly, for a stream cut after the answer started. */
export function cutError(err: unknown, why: string): GatewayError {
  const original = isGatewayError(err) ? err : undefined;
  return new GatewayError({
    status: original?.status ?? 502,
    type: original?.type,
    code: original?.code ?? 'upstream_stream_interrupted',
    message: `The upstream stream failed after the answer had started (${original?.message ?? 'connection lost'}); ${why}.`,
    cause: err,
  });
}

/** The relay as the StreamResult's `batches`. A generator dropped before its first `next()` never
 * runs its `finally`, so that case is handled here: the upstream and the breaker ticket are released. */
export function relayBatches(options: RelayOptions): AsyncIterable<StreamChunk[]> {
  const generator = relay(options);
  let started = false;
  const iterator: AsyncIterator<StreamChunk[]> = {
    next() {
      started = true;
      return generator.next();
    },
    async return(value?: unknown) {
      if (!started) {
        started = true;
        release(options.first);
        options.onEnd();
      }
      return generator.return(value as undefined);
    },
  };
  return { [Symbol.asyncIterator]: () => iterator };
}

/** A stream that answered in full: its attempt's timers go and its breaker hears a success. Shared
 * by the relay and a stream taken whole (call.ts, ResilientStream.whole), which never has a relay. */
export function settleAnswered(answer: StreamAnswer): void {
  answer.guard.dispose();
  answer.ticket.success();
}

function release(answer: StreamAnswer): void {
  answer.guard.abort(new GatewayError({ status: 499, message: 'The stream was abandoned.', code: 'client_closed' }));
  answer.guard.dispose();
  answer.ticket.release();
  void answer.iterator.return?.()?.catch(noop);
}

async function* relay(options: RelayOptions): AsyncGenerator<StreamChunk[]> {
  let current = options.first;
  // Every continuation is asked from the client's own request, never from an earlier prefill.
  const original = options.first.call;
  let index = options.firstIndex;
  let sent = '';
  let opaque = false;
  let id: string | undefined;
  let strip: boolean | undefined;
  let finished = false;

  const outChunk = (chunk: StreamChunk): StreamChunk | undefined => {
    let c = chunk;
    if (strip !== undefined) {
      // A continuation: its role chunk and other empty chunks would repeat what the client has.
      if (!carriesContent(c)) return undefined;
      const r = asContinuation(c, id, strip);
      if (r.stripped) strip = false;
      c = r.chunk.value?.usage ? withUsage(r.chunk, options.usage()) : r.chunk;
    }
    if (options.continuable && !opaque) {
      id ??= completionId(c);
      const t = chunkText(c);
      sent += t.text;
      opaque = t.opaque;
    }
    return c;
  };
  // A batch goes through untouched unless a continuation rewrites its chunks or the text is tracked.
  const out = (batch: StreamChunk[]): StreamChunk[] => {
    if (strip === undefined && (opaque || !options.continuable)) return batch;
    const kept: StreamChunk[] = [];
    for (const chunk of batch) {
      const c = outChunk(chunk);
      if (c) kept.push(c);
    }
    return isLastBatch(batch) ? markLastBatch(kept) : kept;
  };
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    options.onEnd();
  };
  /** The answer is complete: settle the attempt (before its last batch goes out, when it has one). */
  const succeed = (): void => {
    finished = true;
    settleAnswered(current);
    end();
  };

  try {
    for (;;) {
      try {
        // The stream's last batch (types.ts, isLastBatch) is handed on as the last: the attempt is
        // settled first, since the consumer may not ask for more.
        const preamble = out(current.preamble);
        if (isLastBatch(current.preamble)) {
          succeed();
          if (preamble.length > 0) yield preamble;
          return;
        }
        if (preamble.length > 0) yield preamble;
        if (!current.ended)
          for (;;) {
            current.guard.kick();
            const next = await current.guard.race(current.iterator.next());
            current.guard.pause();
            if (next.done) break;
            const batch = out(next.value);
            if (isLastBatch(next.value)) {
              succeed();
              if (batch.length > 0) yield batch;
              return;
            }
            if (batch.length > 0) yield batch;
          }
        succeed();
        return;
      } catch (err) {
        current.guard.abort(err);
        current.guard.dispose();
        void current.iterator.return?.()?.catch(noop);
        options.onCut(current, err);
        if (options.stopped() || !options.hasFallbacks) throw err;
        const kind = classifyFailure(err);
        if (kind !== 'retryable' && kind !== 'timeout') throw err;
        if (!options.continuable) throw cutError(err, 'no fallback is configured to continue it');
        if (opaque || !original) throw cutError(err, 'it holds more than text (tool calls or several choices), which cannot be continued');
        const next = await options.continueFrom({ after: index, call: original, sent, error: err });
        current = next.answer;
        index = next.index;
        strip = next.trimmed;
      }
    }
  } finally {
    // The consumer stopped reading (client gone), or the stream failed: release the upstream.
    if (!finished) release(current);
    end();
  }
}
