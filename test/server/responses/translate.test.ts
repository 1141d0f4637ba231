// The three translation steps on their own: request items → chat messages, chat chunks → events.
import { describe, expect, it } from 'vitest';
import { itemsToMessages, toChatRequest, inputItemResources } from '../../../src/server/responses/request.js';
import { completionOutput } from '../../../src/server/responses/response.js';
import { responseSkeleton } from '../../../src/server/responses/response.js';
import { ResponseEventTranslator } from '../../../src/server/responses/stream.js';
import { responsesRequest, type ResponsesRequest } from '../../../src/server/responses/validate.js';
import { GatewayError } from '../../../src/errors.js';

/** A validated request as the translators take it: these tests' inputs hold no item references. */
function noReferences(raw: unknown): ResponsesRequest {
  const req = responsesRequest(raw);
  if (typeof req.input !== 'string' && req.input.some((item) => item.type === 'item_reference')) throw new Error('an item reference: resolve it first');
  return req as ResponsesRequest;
}

describe('request translation', () => {
  it('maps every supported input item to chat messages', () => {
    const req = noReferences({
      model: 'm',
      input: [
        { role: 'developer', content: 'dev rules' },
        { role: 'user', content: [{ type: 'input_text', text: 'look:' }, { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' }] },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Let me check.' }] },
        { type: 'function_call', call_id: 'c1', name: 'a', arguments: '{}' },
        { type: 'function_call', call_id: 'c2', name: 'b', arguments: '{"x":1}' },
        { type: 'function_call_output', call_id: 'c1', output: 'A' },
        { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'B1' }, { type: 'input_text', text: 'B2' }] },
        { type: 'function_call', call_id: 'c3', name: 'a', arguments: '{}' },
      ],
    });
    expect(itemsToMessages(req.input as never)).toEqual([
      { role: 'developer', content: 'dev rules' },
      { role: 'user', content: [{ type: 'text', text: 'look:' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } }] },
      {
        role: 'assistant',
        content: 'Let me check.',
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'a', arguments: '{}' } },
          { id: 'c2', type: 'function', function: { name: 'b', arguments: '{"x":1}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'A' },
      { role: 'tool', tool_call_id: 'c2', content: 'B1B2' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c3', type: 'function', function: { name: 'a', arguments: '{}' } }] },
    ]);
  });

  it('maps tools, tool_choice, limits and text.format; parallel_tool_calls only with tools', () => {
    const req = noReferences({
      model: 'm',
      input: 'hi',
      instructions: 'be nice',
      tools: [{ type: 'function', name: 'f', parameters: { type: 'object' } }],
      tool_choice: { type: 'function', name: 'f' },
      parallel_tool_calls: false,
      max_output_tokens: 100,
      temperature: 0.2,
      top_p: 0.9,
      text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true } },
      metadata: { k: 'v' },
      user: 'ignored',
    });
    const { body, turn, historyLength } = toChatRequest(req, [{ role: 'user', content: 'before' }], 'target-model');
    expect(body).toEqual({
      model: 'target-model',
      messages: [{ role: 'system', content: 'be nice' }, { role: 'user', content: 'before' }, { role: 'user', content: 'hi' }],
      stream: false,
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      parallel_tool_calls: false,
      max_tokens: 100,
      temperature: 0.2,
      top_p: 0.9,
      response_format: { type: 'json_schema', json_schema: { name: 'out', schema: { type: 'object' }, strict: true } },
    });
    expect(turn).toEqual([{ role: 'user', content: 'hi' }]);
    expect(historyLength).toBe(2);
    const plain = toChatRequest(noReferences({ model: 'm', input: 'x', parallel_tool_calls: true, tool_choice: 'none' }), [], 'm').body;
    expect(plain).toEqual({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: false });
  });

  it('gives every stored input item an id, keeping ids the client sent', () => {
    const items = inputItemResources(noReferences({ model: 'm', input: [{ role: 'user', content: 'a' }, { type: 'function_call', id: 'fc_mine', call_id: 'c', name: 'f', arguments: '{}' }] }).input);
    expect(items).toEqual([
      { id: expect.stringMatching(/^msg_[0-9a-f]{48}$/), type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'a' }] },
      { id: 'fc_mine', type: 'function_call', call_id: 'c', name: 'f', arguments: '{}', status: 'completed' },
    ]);
  });
});

describe('response translation', () => {
  it('turns text plus tool calls into a message item and function_call items', () => {
    const { output, finishReason } = completionOutput({
      choices: [{ message: { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }, finish_reason: 'tool_calls' }],
    });
    expect(finishReason).toBe('tool_calls');
    expect(output).toEqual([
      { id: expect.stringMatching(/^msg_/), type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Checking.', annotations: [], logprobs: [] }] },
      { id: expect.stringMatching(/^fc_/), type: 'function_call', status: 'completed', call_id: 'call_a', name: 'f', arguments: '{"a":1}' },
    ]);
  });
});

describe('stream translation', () => {
  const chunk = (delta: Record<string, unknown>, finish_reason: string | null = null) => ({ object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason }] });
  const parse = (sse: string) =>
    sse
      .split('\n\n')
      .filter(Boolean)
      .map((block) => {
        const [event, data] = block.split('\n');
        const json = JSON.parse(data!.slice('data: '.length));
        expect(event).toBe(`event: ${json.type}`);
        return json;
      });

  it('interleaved text and two tool calls: items open as they appear and close in output order', () => {
    const t = new ResponseEventTranslator(responseSkeleton(responsesRequest({ model: 'm', input: 'x' }), { id: 'resp_1', model: 'm' }));
    let sse = t.start();
    sse += t.chunk(chunk({ role: 'assistant', content: '' }));
    sse += t.chunk(chunk({ content: 'Hi' }));
    sse += t.chunk(chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"a"' } }] }));
    sse += t.chunk(chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'g', arguments: '' } }] }));
    sse += t.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }));
    sse += t.chunk(chunk({}, 'tool_calls'));
    sse += t.chunk({ object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 1 } });
    const { events, response } = t.finish({ input: 5, output: 2, cacheRead: 3, cacheWrite: 0, reasoning: 0 });
    sse += events + t.terminal(response);
    const parsed = parse(sse);
    expect(parsed.map((e) => [e.type, e.output_index ?? null])).toEqual([
      ['response.created', null],
      ['response.in_progress', null],
      ['response.output_item.added', 0],
      ['response.content_part.added', 0],
      ['response.output_text.delta', 0],
      ['response.output_item.added', 1],
      ['response.function_call_arguments.delta', 1],
      ['response.output_item.added', 2],
      ['response.function_call_arguments.delta', 1],
      ['response.output_text.done', 0],
      ['response.content_part.done', 0],
      ['response.output_item.done', 0],
      ['response.function_call_arguments.done', 1],
      ['response.output_item.done', 1],
      ['response.function_call_arguments.done', 2],
      ['response.output_item.done', 2],
      ['response.completed', null],
    ]);
    expect(parsed.map((e) => e.sequence_number)).toEqual(parsed.map((_, i) => i));
    expect(parsed[12]).toMatchObject({ name: 'f', arguments: '{"a":1}', item_id: parsed[5].item.id });
    expect(response.output.map((o) => o.type)).toEqual(['message', 'function_call', 'function_call']);
    expect(response.usage).toEqual({ input_tokens: 8, input_tokens_details: { cached_tokens: 3, cache_write_tokens: 0 }, output_tokens: 2, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 10 });
  });

  it('an empty reply still yields one (empty) message item', () => {
    const t = new ResponseEventTranslator(responseSkeleton(responsesRequest({ model: 'm', input: 'x' }), { id: 'resp_1', model: 'm' }));
    t.start();
    t.chunk(chunk({}, 'stop'));
    const { response } = t.finish(undefined);
    expect(response.output).toMatchObject([{ type: 'message', content: [{ type: 'output_text', text: '' }] }]);
    expect(response.usage).toBeNull();
  });

  it('a failure yields error then response.failed with the partial output', () => {
    const t = new ResponseEventTranslator(responseSkeleton(responsesRequest({ model: 'm', input: 'x' }), { id: 'resp_1', model: 'm' }));
    t.start();
    t.chunk(chunk({ content: 'part' }));
    const events = parse(t.fail(new GatewayError({ status: 429, message: 'Too many.', code: 'rate_limited' }), undefined));
    expect(events).toEqual([
      { type: 'error', code: 'rate_limited', message: 'Too many.', param: null, sequence_number: 5 },
      expect.objectContaining({ type: 'response.failed', sequence_number: 6, response: expect.objectContaining({ status: 'failed', error: { code: 'rate_limit_exceeded', message: 'Too many.' } }) }),
    ]);
    expect(events[1].response.output[0]).toMatchObject({ status: 'incomplete', content: [{ text: 'part' }] });
  });
});
