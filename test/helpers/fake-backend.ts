// A scripted in-process backend for server tests: no network, exact control over chunks and failures.
import type { Backend, ChatCall, ChatResult, StreamChunk, Usage } from '../../src/backends/types.js';
import { GatewayError } from '../../src/errors.js';

export interface FakeScript {
  reply?: string;
  usage?: Usage;
  /** Throw this before answering (a GatewayError, or e.g. a connection reset). */
  error?: Error;
  /** Wait this long before answering (before the headers of a stream). */
  headersDelayMs?: number;
  /** Never answer; only the call's abort signal ends the wait. */
  hang?: boolean;
  /** On abort, reject with this instead of the signal's reason, as SDKs do (APIUserAbortError, AbortError). */
  abortError?: Error;
  /** Stream: wait this long before the first content chunk (after the role chunk). */
  firstTokenDelayMs?: number;
  /** Stream: after this many content chunks, go silent until aborted. */
  stallAfter?: number;
  /** Stream: throw this after `failAfter` chunks. */
  streamError?: GatewayError;
  failAfter?: number;
  /** Delay between chunks. */
  chunkDelayMs?: number;
  /** Answer with these tool calls (finish_reason `tool_calls`); `reply` then defaults to no text. */
  toolCalls?: { id: string; name: string; arguments: string }[];
  /** Override the finish reason (e.g. `length`). */
  finishReason?: string;
}

export class FakeBackend implements Backend {
  readonly kind: 'stateless' | 'stateful';
  readonly provider = 'fake';
  calls: ChatCall[] = [];
  /** performance.now() of each call, for back-off and timing assertions. */
  callTimes: number[] = [];
  aborted = 0;
  script: FakeScript = {};
  /** Scripts for the next calls, one per call; `script` applies once it is empty. */
  queue: FakeScript[] = [];

  constructor(
    readonly name: string,
    kind: 'stateless' | 'stateful' = 'stateless',
    private readonly modelNames: string[] = ['gpt-4o'],
  ) {
    this.kind = kind;
  }

  models(): string[] {
    return this.modelNames;
  }

  async chat(call: ChatCall, ctx: { signal: AbortSignal }): Promise<ChatResult> {
    this.calls.push(call);
    this.callTimes.push(performance.now());
    const s = this.queue.shift() ?? this.script;
    if (s.hang)
      await wait(Number.POSITIVE_INFINITY, ctx.signal).catch((err: unknown) => {
        throw s.abortError ?? err;
      });
    if (s.headersDelayMs) await wait(s.headersDelayMs, ctx.signal);
    if (s.error) throw s.error;
    const tools = s.toolCalls ?? [];
    const reply = s.reply ?? (tools.length ? '' : 'Hello from fake.');
    const finishReason = s.finishReason ?? (tools.length ? 'tool_calls' : 'stop');
    const usage: Usage = s.usage ?? { input: 10, output: 3, cacheRead: 0, cacheWrite: 0, reasoning: 0 };
    const base = { id: 'chatcmpl-fake', created: 1, model: `${call.model}-fake` };
    if (!call.stream) {
      return {
        type: 'json',
        status: 200,
        headers: { 'x-upstream': 'fake' },
        model: base.model,
        usage,
        body: {
          ...base,
          object: 'chat.completion',
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: reply || (tools.length ? null : reply),
                ...(tools.length ? { tool_calls: tools.map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.arguments } })) } : {}),
              },
              finish_reason: finishReason,
              logprobs: null,
            },
          ],
          usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output },
        },
      };
    }
    const words = reply ? reply.split(/(?<= )/) : [];
    let seen: Usage | undefined;
    const self = this;
    async function* chunks(): AsyncGenerator<StreamChunk> {
      const mk = (value: Record<string, unknown>): StreamChunk => ({ json: JSON.stringify(value), value });
      try {
        yield mk({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
        for (let i = 0; i < words.length; i++) {
          if (s.streamError && i === (s.failAfter ?? 0)) throw s.streamError;
          if (i === 0 && s.firstTokenDelayMs) await wait(s.firstTokenDelayMs, ctx.signal);
          if (i === s.stallAfter) await wait(Number.POSITIVE_INFINITY, ctx.signal);
          if (s.chunkDelayMs) await new Promise((r) => setTimeout(r, s.chunkDelayMs));
          if (ctx.signal.aborted) throw ctx.signal.reason;
          yield mk({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: words[i] }, finish_reason: null }] });
        }
        for (const [index, t] of tools.entries()) {
          const half = Math.ceil(t.arguments.length / 2);
          const call = (fn: Record<string, unknown>, head: boolean) => ({ index, ...(head ? { id: t.id, type: 'function' } : {}), function: fn });
          yield mk({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { tool_calls: [call({ name: t.name, arguments: t.arguments.slice(0, half) }, true)] }, finish_reason: null }] });
          yield mk({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { tool_calls: [call({ arguments: t.arguments.slice(half) }, false)] }, finish_reason: null }] });
        }
        yield mk({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: finishReason }] });
        seen = usage;
        if (call.clientWantsStreamUsage)
          yield mk({ ...base, object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output } });
      } finally {
        if (ctx.signal.aborted) self.aborted++;
      }
    }
    return { type: 'stream', status: 200, headers: {}, model: base.model, chunks: chunks(), usage: () => seen };
  }
}

/** Resolves after `ms` (never, for Infinity); rejects with the abort reason when the signal fires. */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
    function done() {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      reject(signal.reason);
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
