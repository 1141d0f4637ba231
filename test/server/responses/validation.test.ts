// Strict validation of POST /v1/responses and the other routes' errors, through the app in-process.
import { describe, expect, it } from 'vitest';
import { authA, responsesGateway } from './helpers.js';

const post = (body: unknown) => ({ method: 'POST', headers: authA, body: JSON.stringify(body) });
const ok = { model: 'gpt-4o', input: 'hi' };

function expectOpenAIError(json: any) {
  expect(Object.keys(json)).toEqual(['error']);
  expect(Object.keys(json.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(typeof json.error.message).toBe('string');
}

describe('POST /v1/responses validation', () => {
  it.each([
    ['missing model', { input: 'x' }, 'model', 'missing_required_parameter'],
    ['missing input', { model: 'gpt-4o' }, 'input', 'missing_required_parameter'],
    ['input of the wrong type', { ...ok, input: 42 }, 'input', 'invalid_type'],
    ['an empty input with nothing to continue', { ...ok, input: [] }, 'input', 'empty_array'],
    ['an input item that is not an object', { ...ok, input: ['x'] }, 'input[0]', 'invalid_type'],
    ['an unknown role', { ...ok, input: [{ role: 'robot', content: 'x' }] }, 'input[0].role', 'invalid_value'],
    ['a message without content', { ...ok, input: [{ role: 'user' }] }, 'input[0].content', 'missing_required_parameter'],
    ['an unsupported content part', { ...ok, input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] }, 'input[0].content[0].type', 'invalid_value'],
    ['an input_text part without text', { ...ok, input: [{ role: 'user', content: [{ type: 'input_text' }] }] }, 'input[0].content[0].text', 'missing_required_parameter'],
    ['an input_image with only a file_id', { ...ok, input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file_1' }] }] }, 'input[0].content[0].image_url', 'unsupported_parameter'],
    ['output_text in a user message', { ...ok, input: [{ role: 'user', content: [{ type: 'output_text', text: 'x' }] }] }, 'input[0].content[0].type', 'invalid_value'],
    ['an unsupported item type', { ...ok, input: [{ role: 'user', content: 'x' }, { type: 'reasoning', summary: [] }] }, 'input[1].type', 'unsupported_parameter'],
    ['a function_call without call_id', { ...ok, input: [{ type: 'function_call', name: 'f', arguments: '{}' }] }, 'input[0].call_id', 'missing_required_parameter'],
    ['a function_call_output with a numeric output', { ...ok, input: [{ type: 'function_call_output', call_id: 'c', output: 5 }] }, 'input[0].output', 'invalid_type'],
    ['previous_response_id with conversation', { ...ok, previous_response_id: 'resp_1', conversation: 'conv_1' }, 'conversation', 'mutually_exclusive_parameters'],
    ['conversation', { ...ok, conversation: 'conv_1' }, 'conversation', 'unsupported_parameter'],
    ['background', { ...ok, background: true }, 'background', 'unsupported_parameter'],
    ['an empty previous_response_id', { ...ok, previous_response_id: '' }, 'previous_response_id', 'invalid_value'],
    ['store of the wrong type', { ...ok, store: 'yes' }, 'store', 'invalid_type'],
    ['stream of the wrong type', { ...ok, stream: 1 }, 'stream', 'invalid_type'],
    ['instructions of the wrong type', { ...ok, instructions: 5 }, 'instructions', 'invalid_type'],
    ['temperature above 2', { ...ok, temperature: 3 }, 'temperature', 'invalid_value'],
    ['top_p below 0', { ...ok, top_p: -0.5 }, 'top_p', 'invalid_value'],
    ['a fractional max_output_tokens', { ...ok, max_output_tokens: 1.5 }, 'max_output_tokens', 'invalid_type'],
    ['max_output_tokens of 0', { ...ok, max_output_tokens: 0 }, 'max_output_tokens', 'invalid_value'],
    ['a non-string metadata value', { ...ok, metadata: { a: 1 } }, 'metadata.a', 'invalid_type'],
    ['too many metadata keys', { ...ok, metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }, 'metadata', 'invalid_value'],
    ['parallel_tool_calls of the wrong type', { ...ok, parallel_tool_calls: 'yes' }, 'parallel_tool_calls', 'invalid_type'],
    ['tools not an array', { ...ok, tools: {} }, 'tools', 'invalid_type'],
    ['a built-in tool', { ...ok, tools: [{ type: 'web_search' }] }, 'tools[0].type', 'unsupported_parameter'],
    ['a function tool without a name', { ...ok, tools: [{ type: 'function', parameters: {} }] }, 'tools[0].name', 'missing_required_parameter'],
    ['a function tool with a bad name', { ...ok, tools: [{ type: 'function', name: 'has space' }] }, 'tools[0].name', 'invalid_value'],
    ['an unknown tool_choice', { ...ok, tool_choice: 'sometimes' }, 'tool_choice', 'invalid_value'],
    ['tool_choice naming a missing function', { ...ok, tools: [{ type: 'function', name: 'f' }], tool_choice: { type: 'function', name: 'g' } }, 'tool_choice.name', 'invalid_value'],
    ['an unknown previous response', { ...ok, previous_response_id: 'resp_nope' }, 'previous_response_id', 'previous_response_not_found'],
  ])('400 for %s, metered once, backend not called', async (_name, body, param, code) => {
    const { app, stateless, meter } = responsesGateway();
    const res = await app.request('/v1/responses', post(body));
    expect(res.status).toBe(400);
    const json = (await res.json()) as any;
    expectOpenAIError(json);
    expect(json.error).toMatchObject({ type: 'invalid_request_error', param, code });
    expect(stateless.calls).toHaveLength(0);
    expect(meter.records).toHaveLength(1);
    expect(meter.records[0]).toMatchObject({ operation: 'responses', status: 400, errorType: code });
  });

  it('400 for a body that is not a JSON object', async () => {
    const { app } = responsesGateway();
    const res = await app.request('/v1/responses', { method: 'POST', headers: authA, body: '[1]' });
    expect(res.status).toBe(400);
    expectOpenAIError(await res.json());
  });

  it('401 without a key, before anything else', async () => {
    const { app, meter } = responsesGateway();
    const res = await app.request('/v1/responses', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ok) });
    expect(res.status).toBe(401);
    expect(meter.records).toHaveLength(0);
  });

  it('says which route and rule chose the backend', async () => {
    const { app } = responsesGateway();
    const res = await app.request('/v1/responses', post(ok));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-stateroute-route')).toBe('stateless');
    expect(res.headers.get('x-stateroute-rule')).toBeTruthy();
  });
});

describe('the other Responses routes', () => {
  it.each([
    ['GET', '/v1/responses', 'POST'],
    ['PUT', '/v1/responses/resp_1', 'GET, DELETE'],
    ['POST', '/v1/responses/resp_1', 'GET, DELETE'],
    ['POST', '/v1/responses/resp_1/input_items', 'GET'],
  ])('405 for %s %s', async (method, path, allow) => {
    const { app } = responsesGateway();
    const res = await app.request(path, { method, headers: authA, ...(method === 'GET' ? {} : { body: '{}' }) });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expectOpenAIError(await res.json());
  });

  it.each(['/v1/responses/resp_missing', '/v1/responses/resp_missing/input_items'])('404 in OpenAI shape for an unknown id on GET %s', async (path) => {
    const { app } = responsesGateway();
    const res = await app.request(path, { headers: authA });
    expect(res.status).toBe(404);
    const json = (await res.json()) as any;
    expectOpenAIError(json);
    expect(json.error.message).toBe("Response with id 'resp_missing' not found.");
  });

  it('400 for streaming a stored response (not supported)', async () => {
    const { app } = responsesGateway();
    const created = (await (await app.request('/v1/responses', post(ok))).json()) as any;
    const res = await app.request(`/v1/responses/${created.id}?stream=true`, { headers: authA });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toMatchObject({ param: 'stream', code: 'unsupported_parameter' });
  });

  it('404 on DELETE of an unknown id', async () => {
    const { app } = responsesGateway();
    const res = await app.request('/v1/responses/resp_missing', { method: 'DELETE', headers: authA });
    expect(res.status).toBe(404);
  });

  it('DELETE answers {id, object, deleted}', async () => {
    const { app } = responsesGateway();
    const created = (await (await app.request('/v1/responses', post(ok))).json()) as any;
    const res = await app.request(`/v1/responses/${created.id}`, { method: 'DELETE', headers: authA });
    expect(await res.json()).toEqual({ id: created.id, object: 'response', deleted: true });
  });

  it.each([
    ['order=up', 'order'],
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=ten', 'limit'],
    ['after=msg_unknown', 'after'],
  ])('400 for input_items?%s', async (query, param) => {
    const { app } = responsesGateway();
    const created = (await (await app.request('/v1/responses', post(ok))).json()) as any;
    const res = await app.request(`/v1/responses/${created.id}/input_items?${query}`, { headers: authA });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.param).toBe(param);
  });
});
