// Translation, stream side: chat completion chunks → Responses streaming events, one chunk at a time,
// each written as `event: <type>\ndata: <json>\n\n` with an increasing `sequence_number`.
// Events: https://platform.openai.com/docs/api-reference/responses-streaming
// Chunks: https://platform.openai.com/docs/api-reference/chat-streaming
//
// Output items open lazily in the order they first appear (text → a `message` item, each chat
// `tool_calls[index]` → a `function_call` item) and all close at the end of the stream, in output order.
import type { Usage } from '../../backends/types.js';
import type { GatewayError } from '../../errors.js';
import { itemIds, newId } from './ids.js';
import { finalizeResponse, functionCallItem, messageItem, outcomeOf } from './response.js';
import type { OutputItem, ResponseObject } from './types.js';

interface TextState {
  kind: 'text';
  id: string;
  outputIndex: number;
  parts: string[];
}

interface CallState {
  kind: 'call';
  id: string;
  outputIndex: number;
  callId: string;
  name: string;
  args: string[];
}

interface ChunkToolCall {
  index?: unknown;
  id?: unknown;
  function?: { name?: unknown; arguments?: unknown };
}

interface ChunkChoice {
  delta?: { content?: unknown; refusal?: unknown; tool_calls?: ChunkToolCall[] };
  finish_reason?: unknown;
}

export class ResponseEventTranslator {
  private seq = 0;
  private readonly items: (TextState | CallState)[] = [];
  private text: TextState | undefined;
  private readonly calls = new Map<number, CallState>();
  private finishReason: unknown;
  /** `id` makes the items' ids: they name this response (ids.ts), so a later `item_reference` finds them. */
  constructor(
    private readonly skeleton: ResponseObject,
    private readonly id: (prefix: 'msg' | 'fc') => string = itemIds(skeleton.id),
  ) {}

  private event(type: string, fields: Record<string, unknown>): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, ...fields, sequence_number: this.seq++ })}\n\n`;
  }

  /** `response.created` and `response.in_progress`, written as soon as the upstream stream opens. */
  start(): string {
    return this.event('response.created', { response: this.skeleton }) + this.event('response.in_progress', { response: this.skeleton });
  }

  /** One parsed chat chunk → the events it causes ('' for a usage-only chunk). */
  chunk(value: Record<string, unknown>): string {
    const choice = (value.choices as ChunkChoice[] | undefined)?.[0];
    if (!choice) return '';
    let out = '';
    const delta = choice.delta ?? {};
    if (typeof delta.content === 'string' && delta.content) out += this.textDelta(delta.content);
    if (typeof delta.refusal === 'string' && delta.refusal) out += this.textDelta(delta.refusal);
    if (Array.isArray(delta.tool_calls)) for (const call of delta.tool_calls) out += this.callDelta(call);
    if (choice.finish_reason != null) this.finishReason = choice.finish_reason;
    return out;
  }

  private openText(): string {
    const state: TextState = { kind: 'text', id: this.id('msg'), outputIndex: this.items.length, parts: [] };
    this.items.push(state);
    this.text = state;
    const item = { ...messageItem(state.id, '', 'in_progress'), content: [] };
    return (
      this.event('response.output_item.added', { output_index: state.outputIndex, item }) +
      this.event('response.content_part.added', { item_id: state.id, output_index: state.outputIndex, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } })
    );
  }

  private textDelta(delta: string): string {
    const open = this.text ? '' : this.openText();
    const state = this.text!;
    state.parts.push(delta);
    return open + this.event('response.output_text.delta', { item_id: state.id, output_index: state.outputIndex, content_index: 0, delta, logprobs: [] });
  }

  private callDelta(call: ChunkToolCall): string {
    const index = typeof call.index === 'number' ? call.index : 0;
    let out = '';
    let state = this.calls.get(index);
    if (!state) {
      state = {
        kind: 'call',
        id: this.id('fc'),
        outputIndex: this.items.length,
        callId: typeof call.id === 'string' && call.id ? call.id : newId('call'),
        name: typeof call.function?.name === 'string' ? call.function.name : '',
        args: [],
      };
      this.items.push(state);
      this.calls.set(index, state);
      const item = functionCallItem({ id: state.id, callId: state.callId, name: state.name, arguments: '', status: 'in_progress' });
      out += this.event('response.output_item.added', { output_index: state.outputIndex, item });
    } else if (!state.name && typeof call.function?.name === 'string') {
      state.name = call.function.name;
    }
    const args = call.function?.arguments;
    if (typeof args === 'string' && args) {
      state.args.push(args);
      out += this.event('response.function_call_arguments.delta', { item_id: state.id, output_index: state.outputIndex, delta: args });
    }
    return out;
  }

  /** The stream ended: close every open item; returns those events and the final Response. */
  finish(usage: Usage | undefined): { events: string; response: ResponseObject } {
    let events = this.items.length === 0 ? this.openText() : '';
    const status = outcomeOf(this.finishReason).status;
    const output: OutputItem[] = [];
    for (const state of this.items) {
      const at = { item_id: state.id, output_index: state.outputIndex };
      if (state.kind === 'text') {
        const text = state.parts.join('');
        const item = messageItem(state.id, text, status);
        events +=
          this.event('response.output_text.done', { ...at, content_index: 0, text, logprobs: [] }) +
          this.event('response.content_part.done', { ...at, content_index: 0, part: item.content[0] }) +
          this.event('response.output_item.done', { output_index: state.outputIndex, item });
        output.push(item);
      } else {
        const item = functionCallItem({ id: state.id, callId: state.callId, name: state.name, arguments: state.args.join(''), status });
        events +=
          this.event('response.function_call_arguments.done', { ...at, name: item.name, arguments: item.arguments }) +
          this.event('response.output_item.done', { output_index: state.outputIndex, item });
        output.push(item);
      }
    }
    return { events, response: finalizeResponse(this.skeleton, { output, finishReason: this.finishReason, usage }) };
  }

  /** The terminal event for a response that finished: `response.completed` or `response.incomplete`. */
  terminal(response: ResponseObject): string {
    return this.event(response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response });
  }

  /** A failure mid-stream: an `error` event, then `response.failed` with what had been produced. */
  fail(error: GatewayError, usage: Usage | undefined): string {
    const output: OutputItem[] = this.items.map((s) =>
      s.kind === 'text'
        ? messageItem(s.id, s.parts.join(''), 'incomplete')
        : functionCallItem({ id: s.id, callId: s.callId, name: s.name, arguments: s.args.join(''), status: 'incomplete' }),
    );
    const failed = {
      ...finalizeResponse(this.skeleton, { output, finishReason: undefined, usage }),
      status: 'failed',
      completed_at: null,
      error: { code: error.status === 429 ? 'rate_limit_exceeded' : 'server_error', message: error.message },
    };
    return (
      this.event('error', { code: error.code ?? error.type, message: error.message, param: error.param }) +
      this.event('response.failed', { response: failed })
    );
  }
}
