// Failures after the first byte: honest errors, idle timeout, and the continuation from a prefill.
import { describe, expect, it } from 'vitest';
import { batchesOf, isLastBatch, markLastBatch, type Backend, type ChatCall, type ChatResult, type StreamChunk, type StreamResult, type Usage } from '../../src/backends/types.js';
import { GatewayError } from '../../src/errors.js';
import { callWithResilience } from '../../src/resilience/call.js';
import { ResilienceState } from '../../src/resilience/state.js';
import { callFor, consume, context, fakes, fastPolicy, question, targets } from './helpers.js';

const streamOf = (result: ChatResult): StreamResult => {
  if (result.type !== 'stream') throw new Error('expected a stream');
  return result;
};

const cut = () => new GatewayError({ status: 502, message: 'Upstream stream was cut.', code: 'upstream_stream_interrupted' });

describe('a stream that fails after the first byte', () => {
  it('cut after N chunks: the consumer gets the N chunks, then the error, never a clean end', async () => {
    const { primary } = fakes();
    primary.script = { reply: 'one two three four five', failAfter: 3, streamError: cut() };
    const result = await callWithResilience({ targets: targets([primary]), policy: fastPolicy(), ctx: context(), makeCall: callFor(true) });
    const { text, chunks, error } = await consume(result);
    expect(text).toBe('one two three ');
    expect(chunks.some((c) => c.choices[0]?.finish_reason)).toBe(false);
    expect(error).toMatchObject({ status: 502, code: 'upstream_stream_interrupted', message: 'Upstream stream was cut.' });
    expect(primary.calls).toHaveLength(1);
  });

  it('stalls: the idle timeout ends it with an error after the chunks already sent', async () => {
    const { primary } = fakes();
    primary.script = { reply: 'one two three four', stallAfter: 2 };
    const result = await callWithResilience({ targets: targets([primary]), policy: fastPolicy({ timeouts: { idleMs: 100 } }), ctx: context(), makeCall: callFor(true) });
    const t0 = performance.now();
    const { text, error } = await consume(result);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(text).toBe('one two ');
    expect(error).toMatchObject({ status: 504, code: 'upstream_idle_timeout' });
    await expect.poll(() => primary.aborted).toBe(1);
  });

  it('the idle timeout does not count time the consumer spends reading slowly', async () => {
    const { primary } = fakes();
    primary.script = { reply: 'one two three' };
    const result = await callWithResilience({ targets: targets([primary]), policy: fastPolicy({ timeouts: { idleMs: 80 } }), ctx: context(), makeCall: callFor(true) });
    if (result.type !== 'stream') throw new Error('expected a stream');
    let text = '';
    for await (const batch of batchesOf(result)) {
      for (const chunk of batch) text += (JSON.parse(chunk.json).choices[0]?.delta?.content as string | undefined) ?? '';
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(text).toBe('one two three');
  });

  it('a cut with a fallback that does not accept a prefill: nothing is sent to it, the error names the failure', async () => {
    const { primary, fallback } = fakes();
    primary.script = { reply: 'one two three four', failAfter: 2, streamError: cut() };
    const result = await callWithResilience({ targets: targets([primary], [fallback, { acceptsPrefill: false }]), policy: fastPolicy(), ctx: context(), makeCall: callFor(true) });
    const { text, error } = await consume(result);
    expect(text).toBe('one two ');
    expect(fallback.calls).toHaveLength(0);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 502, code: 'upstream_stream_interrupted' });
    expect(error.message).toContain('Upstream stream was cut.');
    expect(error.message).toContain('no fallback is configured to continue it');
  });

  it('a cut with a prefill-capable fallback: the consumer receives the complete answer exactly once', async () => {
    const { primary, fallback } = fakes();
    primary.script = { reply: 'The quick brown fox jumps over the lazy dog.', failAfter: 3, streamError: cut(), usage: undefined };
    fallback.script = { reply: ' fox jumps over the lazy dog.', usage: { input: 40, output: 6, cacheRead: 0, cacheWrite: 0, reasoning: 0 } };
    const fallbacks: unknown[] = [];
    const result = await callWithResilience({
      targets: targets([primary], [fallback, { model: 'claude', acceptsPrefill: true }]),
      policy: fastPolicy(),
      ctx: context(),
      makeCall: callFor(true),
      onFallback: (f) => fallbacks.push(f.reason),
    });
    expect(result.answeredBy).toBe(0);
    const { text, chunks, error } = await consume(result);
    expect(error).toBeUndefined();
    expect(text).toBe('The quick brown fox jumps over the lazy dog.');
    expect(chunks.filter((c) => c.choices[0]?.delta?.role === 'assistant')).toHaveLength(1);
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe('stop');
    // What the fallback was asked: the same conversation plus the text already sent, as a prefill
    // without the trailing space providers reject.
    expect(fallback.calls).toHaveLength(1);
    const sent = fallback.calls[0]!;
    expect(sent.model).toBe('claude');
    expect(sent.stream).toBe(true);
    expect(sent.body.messages).toEqual([...question, { role: 'assistant', content: 'The quick brown' }]);
    expect(fallbacks).toEqual(['continuation']);
    expect(result.answeredBy).toBe(1);
    expect(result.model).toBe('claude-fake');
    expect(streamOf(result).usage()).toEqual({ input: 40, output: 6, cacheRead: 0, cacheWrite: 0, reasoning: 0 });
    expect(result.attempts.map((a) => [a.target, a.outcome, a.continuation])).toEqual([[0, 'answered', false], [1, 'answered', true]]);
  });

  it('skips fallbacks that do not accept a prefill and continues on the first one that does', async () => {
    const { primary, fallback, third } = fakes();
    primary.script = { reply: 'alpha beta gamma', failAfter: 1, streamError: cut() };
    third.script = { reply: 'beta gamma' };
    const result = await callWithResilience({ targets: targets([primary], [fallback], [third, { acceptsPrefill: true }]), policy: fastPolicy(), ctx: context(), makeCall: callFor(true) });
    const { text, error } = await consume(result);
    expect(error).toBeUndefined();
    expect(text).toBe('alpha beta gamma');
    expect(fallback.calls).toHaveLength(0);
    expect(third.calls[0]!.body.messages.at(-1)).toEqual({ role: 'assistant', content: 'alpha' });
  });

  it('a continuation cut in turn is continued by the next prefill-capable fallback, from the original request', async () => {
    const { primary, fallback, third } = fakes();
    primary.script = { reply: 'one two three four five', failAfter: 1, streamError: cut() };
    fallback.script = { reply: 'two three four five', failAfter: 2, streamError: cut() };
    third.script = { reply: 'four five' };
    const result = await callWithResilience({
      targets: targets([primary], [fallback, { acceptsPrefill: true }], [third, { acceptsPrefill: true }]),
      policy: fastPolicy(),
      ctx: context(),
      makeCall: callFor(true),
    });
    const { text, error } = await consume(result);
    expect(error).toBeUndefined();
    expect(text).toBe('one two three four five');
    expect(third.calls[0]!.body.messages).toEqual([...question, { role: 'assistant', content: 'one two three' }]);
    expect(result.answeredBy).toBe(2);
  });

  it('a continuation that fails too ends in an error naming the original failure', async () => {
    const { primary, fallback } = fakes();
    primary.script = { reply: 'one two three', failAfter: 1, streamError: cut() };
    fallback.script = { error: new GatewayError({ status: 503, message: 'also down' }) };
    const result = await callWithResilience({ targets: targets([primary], [fallback, { acceptsPrefill: true }]), policy: fastPolicy(), ctx: context(), makeCall: callFor(true) });
    const { text, error } = await consume(result);
    expect(text).toBe('one ');
    expect(fallback.calls).toHaveLength(1);
    expect(error).toMatchObject({ status: 502, code: 'upstream_stream_interrupted' });
    expect(error.message).toContain('Upstream stream was cut.');
  });

  it('a stall with a prefill-capable fallback is continued too', async () => {
    const { primary, fallback } = fakes();
    primary.script = { reply: 'one two three four', stallAfter: 2 };
    fallback.script = { reply: ' three four' };
    const result = await callWithResilience({ targets: targets([primary], [fallback, { acceptsPrefill: true }]), policy: fastPolicy({ timeouts: { idleMs: 100 } }), ctx: context(), makeCall: callFor(true) });
    const { text, error } = await consume(result);
    expect(error).toBeUndefined();
    expect(text).toBe('one two three four');
  });

  it('usage sums what every attempt consumed and the model is the one that answered last', async () => {
    const usage = (input: number, output: number): Usage => ({ input, output, cacheRead: 0, cacheWrite: 0, reasoning: 0 });
    // A backend whose cut stream still reports the tokens it used, as the real ones do.
    const partial: Backend = {
      name: 'partial',
      kind: 'stateless',
      provider: 'fake',
      models: () => ['gpt-4o'],
      async chat(call: ChatCall) {
        let used: Usage | undefined;
        async function* chunks(): AsyncGenerator<StreamChunk> {
          const mk = (content: string) => ({ json: JSON.stringify({ id: 'a', model: 'gpt-4o-1', choices: [{ index: 0, delta: { content }, finish_reason: null }] }) });
          yield mk('Hello');
          used = usage(12, 1);
          yield mk(' wor');
          used = usage(12, 2);
          throw cut();
        }
        void call;
        return { type: 'stream', status: 200, headers: {}, model: 'gpt-4o-1', chunks: chunks(), usage: () => used };
      },
    };
    const { fallback } = fakes();
    fallback.script = { reply: 'ld!', usage: usage(15, 2) };
    const makeCall = (target: { model?: string }): ChatCall => ({ ...callFor(true)({ backend: partial, acceptsPrefill: false, ...target }), clientWantsStreamUsage: true });
    const result = await callWithResilience({ targets: [{ backend: partial, acceptsPrefill: false }, { backend: fallback, model: 'claude', acceptsPrefill: true }], policy: fastPolicy(), ctx: context(), makeCall });
    const { text, chunks } = await consume(result);
    expect(text).toBe('Hello world!');
    // The client's usage chunk tells what the whole answer cost, not just the continuation.
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 27, completion_tokens: 4, total_tokens: 31 });
    expect(fallback.calls[0]!.body.messages.at(-1)).toEqual({ role: 'assistant', content: 'Hello wor' });
    expect(streamOf(result).usage()).toEqual(usage(27, 4));
    expect(result.model).toBe('claude-fake');
  });

  it('batches (the chunks of one upstream read): relayed whole, the first content mid-batch, and a continuation rewritten chunk by chunk', async () => {
    const mk = (content: string | undefined, finish: string | null = null): StreamChunk => ({
      json: JSON.stringify({ id: 'b', model: 'm', choices: [{ index: 0, delta: content === undefined ? { role: 'assistant', content: '' } : { content }, finish_reason: finish }] }),
    });
    const batched = (name: string, reads: StreamChunk[][], error?: Error): Backend => ({
      name,
      kind: 'stateless',
      provider: 'fake',
      models: () => ['gpt-4o'],
      async chat() {
        async function* batches(): AsyncGenerator<StreamChunk[]> {
          yield* reads;
          if (error) throw error;
        }
        return { type: 'stream', status: 200, headers: {}, model: name, batches: batches(), usage: () => undefined };
      },
    });
    const primary = batched('primary', [[mk(undefined), mk('The '), mk('quick ')], [mk('brown ')]], cut());
    const fallback = batched('fallback', [[mk(undefined), mk(' '), mk(' fox'), mk(' jumps.')], [mk('', 'stop')]]);
    const result = await callWithResilience({ targets: [{ backend: primary, acceptsPrefill: false }, { backend: fallback, acceptsPrefill: true }], policy: fastPolicy(), ctx: context(), makeCall: callFor(true) });
    const seen: StreamChunk[][] = [];
    for await (const batch of batchesOf(streamOf(result))) seen.push(batch);
    const contents = seen.map((batch) => batch.map((c) => JSON.parse(c.json).choices[0].delta.content as string));
    // The primary's first read goes out whole, role chunk included; the continuation loses its role
    // chunk and the whitespace the trimmed prefill will have made it repeat.
    expect(contents).toEqual([['', 'The ', 'quick '], ['brown '], ['', 'fox', ' jumps.'], ['']]);
    expect(seen.flat().map((c) => JSON.parse(c.json).id)).toEqual(Array(8).fill('b'));
    expect(result.answeredBy).toBe(1);
  });

  it('a last batch (backends/types.ts) is relayed as the last: nothing more is asked of the backend, and the consumer still sees the end', async () => {
    const mk = (content: string, finish: string | null = null): StreamChunk => ({ json: JSON.stringify({ id: 'l', model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: finish }] }) });
    const settle = async (reads: StreamChunk[][], withFallback = false) => {
      let asked = 0;
      let asks: number | undefined;
      const backend: Backend = {
        name: 'last',
        kind: 'stateless',
        provider: 'fake',
        models: () => ['gpt-4o'],
        async chat() {
          const iterator: AsyncIterator<StreamChunk[]> = {
            next: async () => {
              asked++;
              const value = reads.shift();
              return value ? { done: false, value } : { done: true, value: undefined };
            },
          };
          return { type: 'stream', status: 200, headers: {}, model: 'last', batches: { [Symbol.asyncIterator]: () => iterator }, usage: () => undefined };
        },
      };
      // With a prefill-capable fallback the relay tracks the text and hands on batches of its own:
      // those must carry the mark too.
      const list = withFallback ? [{ backend, acceptsPrefill: false }, { backend: fakes().fallback, acceptsPrefill: true }] : [{ backend, acceptsPrefill: false }];
      const result = await callWithResilience({ targets: list, policy: fastPolicy(), ctx: context(), makeCall: callFor(true) });
      const seen: string[][] = [];
      const iterator = batchesOf(streamOf(result))[Symbol.asyncIterator]();
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        seen.push(next.value.map((c) => JSON.parse(c.json).choices[0].delta.content as string));
        if (isLastBatch(next.value)) asks = asked;
      }
      return { seen, asked, asksAtLast: asks };
    };
    // In the preamble (the first read already has the end) and after it (a later read has it).
    const first = await settle([markLastBatch([mk('Hello '), mk('world', 'stop')])]);
    expect(first).toEqual({ seen: [['Hello ', 'world']], asked: 1, asksAtLast: 1 });
    const later = await settle([[mk('Hello ')], markLastBatch([mk('world', 'stop')])]);
    expect(later).toEqual({ seen: [['Hello '], ['world']], asked: 2, asksAtLast: 2 });
    // The first read carries nothing yet (an empty delta), so the peek joins it to the last one: still the last.
    const joined = await settle([[mk('')], markLastBatch([mk('Hello', 'stop')])]);
    expect(joined).toEqual({ seen: [['', 'Hello']], asked: 2, asksAtLast: 2 });
    const tracked = await settle([[mk('Hello ')], markLastBatch([mk('world', 'stop')])], true);
    expect(tracked).toEqual({ seen: [['Hello '], ['world']], asked: 2, asksAtLast: 2 });
  });

  it('whole(): a stream whose first read was its last is taken whole, settled as a finished stream; otherwise there is nothing to take', async () => {
    const mk = (content: string, finish: string | null = null): StreamChunk => ({ json: JSON.stringify({ id: 'w', model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: finish }] }) });
    const backendOf = (reads: StreamChunk[][]): Backend & { asked: number } => {
      const backend = {
        name: 'whole',
        kind: 'stateless' as const,
        provider: 'fake',
        asked: 0,
        models: () => ['gpt-4o'],
        async chat(): Promise<ChatResult> {
          const iterator: AsyncIterator<StreamChunk[]> = {
            next: async () => {
              backend.asked++;
              const value = reads.shift();
              return value ? { done: false, value } : { done: true, value: undefined };
            },
          };
          return { type: 'stream', status: 200, headers: {}, model: 'whole', batches: { [Symbol.asyncIterator]: () => iterator }, usage: () => undefined };
        },
      };
      return backend;
    };
    // One failure short of ejecting the target: a stream taken whole must count as its success.
    const state = new ResilienceState();
    const policy = fastPolicy({ breaker: { consecutiveFailures: 2 } });
    const breaker = state.breaker('whole/*');
    breaker.acquire(policy.breaker)!.failure();
    const done = backendOf([markLastBatch([mk('Hello '), mk('world', 'stop')])]);
    const result = await callWithResilience({ targets: [{ backend: done, acceptsPrefill: false }], policy, state, ctx: context(), makeCall: callFor(true) });
    const whole = result.whole?.();
    expect(whole?.map((c) => JSON.parse(c.json).choices[0].delta.content)).toEqual(['Hello ', 'world']);
    expect(done.asked).toBe(1);
    expect(result.whole?.()).toBeUndefined();
    expect(() => streamOf(result).batches).toThrow(/taken whole/);
    breaker.acquire(policy.breaker)!.failure();
    expect(breaker.state).toBe('closed');

    // More to come: nothing is taken, and the stream reads as before.
    const more = await callWithResilience({ targets: [{ backend: backendOf([[mk('Hello ')], markLastBatch([mk('world', 'stop')])]), acceptsPrefill: false }], policy: fastPolicy(), ctx: context(), makeCall: callFor(true) });
    expect(more.whole?.()).toBeUndefined();
    expect((await consume(more)).text).toBe('Hello world');
    // Once the relay was asked for, the stream is being read: whole() takes nothing.
    const read = await callWithResilience({ targets: [{ backend: backendOf([markLastBatch([mk('Hi', 'stop')])]), acceptsPrefill: false }], policy: fastPolicy(), ctx: context(), makeCall: callFor(true) });
    const iterator = batchesOf(streamOf(read))[Symbol.asyncIterator]();
    expect(read.whole?.()).toBeUndefined();
    expect((await iterator.next()).value?.length).toBe(1);
  });

  it('a client that stops reading releases the upstream stream', async () => {
    const { primary } = fakes();
    primary.script = { reply: 'w '.repeat(50), chunkDelayMs: 5 };
    const controller = new AbortController();
    const result = await callWithResilience({ targets: targets([primary]), policy: fastPolicy(), ctx: context(controller.signal), makeCall: callFor(true) });
    if (result.type !== 'stream') throw new Error('expected a stream');
    const iterator = batchesOf(result)[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.next();
    controller.abort(new GatewayError({ status: 499, message: 'gone', code: 'client_closed' }));
    await iterator.return?.();
    await expect.poll(() => primary.aborted).toBe(1);
  });
});
