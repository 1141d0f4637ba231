// `item_reference` input items through the gateway over real HTTP, driven by the official openai
// client: an earlier response's items named by id alone (what the Vercel AI SDK's default provider
// sends for everything the model said before, while `store` is on).
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { itemIds, newId, responseOfItem } from '../../../src/server/responses/ids.js';
import { responsesRequest } from '../../../src/server/responses/validate.js';
import type { Listening } from '../../../src/server/serve.js';
import { startResponsesGateway } from './helpers.js';

let server: Listening | undefined;
afterEach(async () => {
  await server?.drain(0);
  server = undefined;
});

async function start() {
  const g = await startResponsesGateway();
  server = g.server;
  return g;
}

const weatherTool = { type: 'function' as const, name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: false };
// The SDK's input types do not list the typeless form; the API accepts it (ItemReferenceParam.type is nullable).
type Input = OpenAI.Responses.ResponseCreateParams['input'];

describe('item ids', () => {
  it("name the response that holds them, distinct within it; other ids name none", () => {
    const responseId = newId('resp');
    const id = itemIds(responseId);
    const made = [id('msg'), id('fc'), id('fco'), id('msg')];
    expect(new Set(made).size).toBe(4);
    for (const item of made) expect(responseOfItem(item)).toBe(responseId);
    expect(made[0]).toMatch(/^msg_[0-9a-f]{52}$/);
    expect(responseOfItem(newId('msg'))).toBeUndefined();
    expect(responseOfItem('msg_mine')).toBeUndefined();
    expect(responseOfItem(`rs_${responseId.slice(5)}0000`)).toBeUndefined();
    // A response id the gateway did not make (a test's) still gets usable random item ids.
    expect(itemIds('resp_1')('msg')).toMatch(/^msg_[0-9a-f]{48}$/);
  });

  it('a typeless item with an id and no role is a reference; with a role it stays a message', () => {
    const req = responsesRequest({ model: 'm', input: [{ id: 'fc_x' }, { id: 'msg_y', role: 'user', content: 'hi' }, { type: 'item_reference', id: 'msg_z' }] });
    expect(req.input).toEqual([{ type: 'item_reference', id: 'fc_x' }, { id: 'msg_y', role: 'user', content: 'hi' }, { type: 'item_reference', id: 'msg_z' }]);
    expect(() => responsesRequest({ model: 'm', input: [{ type: 'item_reference' }] })).toThrow(expect.objectContaining({ status: 400, param: 'input[0].id' }));
    expect(() => responsesRequest({ model: 'm', input: [{ type: 'item_reference', id: 7 }] })).toThrow(expect.objectContaining({ status: 400, param: 'input[0].id' }));
  });
});

describe('item_reference input items', () => {
  it('a tool round trip without previous_response_id: the function call by reference, then its output', async () => {
    const { client, stateless } = await start();
    stateless.script = { reply: 'Let me check.', toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }] };
    const first = await client.responses.create({ model: 'gpt-4o', input: 'Weather in Paris?', tools: [weatherTool] });
    const [message, call] = first.output;
    expect(message).toMatchObject({ type: 'message' });
    expect(call).toMatchObject({ type: 'function_call', call_id: 'call_1' });

    stateless.script = { reply: 'Sunny.' };
    const input = [
      { role: 'user', content: 'Weather in Paris?' },
      { type: 'item_reference', id: message!.id! },
      { type: 'item_reference', id: (call as { id: string }).id },
      { type: 'function_call_output', call_id: 'call_1', output: '{"sky":"sunny"}' },
    ] as Input;
    const second = await client.responses.create({ model: 'gpt-4o', tools: [weatherTool], input });
    expect(second.output_text).toBe('Sunny.');
    expect(stateless.calls[1]!.body.messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: 'Let me check.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"sky":"sunny"}' },
    ]);
    // What produced `second` is listed as the items themselves, under their own ids.
    const items = await client.responses.inputItems.list(second.id, { order: 'asc' });
    expect(items.data.map((i) => i.id)).toEqual([expect.stringMatching(/^msg_/), message!.id, (call as { id: string }).id, expect.stringMatching(/^fco_/)]);
    expect(items.data[2]).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Paris"}' });
  });

  it("a streamed response's items, and a stored input item, typeless references included", async () => {
    const { client, stateless } = await start();
    stateless.script = { reply: 'streamed words' };
    const stream = client.responses.stream({ model: 'gpt-4o', input: 'first question' });
    const addedIds: string[] = [];
    stream.on('response.output_item.added', (e) => addedIds.push(e.item.id!));
    const first = await stream.finalResponse();
    expect(addedIds).toEqual([first.output[0]!.id]);
    const [question] = (await client.responses.inputItems.list(first.id)).data;

    stateless.script = { reply: 'ok' };
    await client.responses.create({ model: 'gpt-4o', input: [{ id: question!.id }, { type: 'item_reference', id: addedIds[0]! }, { role: 'user', content: 'and then?' }] as Input });
    expect(stateless.calls[1]!.body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'first question' }] },
      { role: 'assistant', content: 'streamed words' },
      { role: 'user', content: 'and then?' },
    ]);
  });

  it("an unknown id, another tenant's item and an item of a store:false response are OpenAI's 404; nothing goes upstream", async () => {
    const { client, other, stateless } = await start();
    const kept = await client.responses.create({ model: 'gpt-4o', input: 'kept' });
    const unstored = await client.responses.create({ model: 'gpt-4o', input: 'not kept', store: false });
    const callsBefore = stateless.calls.length;
    for (const [who, id] of [
      [client, 'msg_unknown'],
      [client, itemIds(newId('resp'))('msg')],
      [other, kept.output[0]!.id!],
      [client, unstored.output[0]!.id!],
    ] as const) {
      const err = await who.responses.create({ model: 'gpt-4o', input: [{ type: 'item_reference', id }, { role: 'user', content: 'x' }] as Input }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.NotFoundError);
      expect((err as InstanceType<typeof OpenAI.NotFoundError>).error).toEqual({
        message: `Item with id '${id}' not found. Items are not persisted when \`store\` is set to false. Try again with \`store\` set to true, or remove this item from your input.`,
        type: 'invalid_request_error',
        param: 'input',
        code: null,
      });
    }
    expect(stateless.calls.length).toBe(callsBefore);
  });
});
