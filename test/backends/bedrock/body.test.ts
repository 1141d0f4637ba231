// body.ts writes the Converse body with JSON.stringify; the SDK's own serializer is the reference.
// Both are run on the same inputs (fixed ones covering every block kind, and random conversations)
// and the bodies that would reach the wire are compared as JSON documents; then the client from
// client.ts is checked to put that body on the request it signs, with a matching content length.
import { createHash } from 'node:crypto';
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { converseBody } from '../../../src/backends/bedrock/body.js';
import { createBedrockClient, withPreparedBody } from '../../../src/backends/bedrock/client.js';
import { bedrockConfigSchema } from '../../../src/backends/bedrock/config.js';
import { toConverseInput, type ConverseInput } from '../../../src/backends/bedrock/request.js';
import type { ChatBody, ChatMessage } from '../../../src/backends/types.js';
import { GatewayError } from '../../../src/errors.js';

const MODEL_ID = 'anthropic.claude-sonnet-4-20250514-v1:0';
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 3, 254, 255]).toString('base64');

interface Sent {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** A client whose handler records the request it would send. */
function capturing(client: BedrockRuntimeClient): { client: BedrockRuntimeClient; sent: Sent[] } {
  const sent: Sent[] = [];
  client.config.requestHandler = {
    handle: async (request: { path: string; headers: Record<string, string>; body: unknown }) => {
      sent.push({ path: request.path, headers: { ...request.headers }, body: String(request.body) });
      throw new Error('captured');
    },
  } as unknown as typeof client.config.requestHandler;
  return { client, sent };
}

const plainSdk = () => capturing(new BedrockRuntimeClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'SECRET' }, maxAttempts: 1 }));
const gatewayClient = () =>
  capturing(createBedrockClient(bedrockConfigSchema.parse({ type: 'bedrock', region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'SECRET' } }), 5_000));

async function sdkBody(input: ConverseInput): Promise<string> {
  const { client, sent } = plainSdk();
  await client.send(new ConverseCommand(input)).catch(() => undefined);
  expect(sent).toHaveLength(1);
  return sent[0]!.body;
}

const input = (body: Partial<ChatBody> & { messages: ChatMessage[] }, historyLength?: number) =>
  toConverseInput({ body: { model: 'm', ...body }, modelId: MODEL_ID, historyLength, promptCache: true });

const FIXED: Array<[string, ConverseInput]> = [
  ['one user message', input({ messages: [{ role: 'user', content: 'hi' }] })],
  [
    'system, history with tool calls and results, cache points, inference config and tools',
    input(
      {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'developer', content: [{ type: 'text', text: 'Use metric units.' }] },
          { role: 'user', content: 'Weather in Paris and Köln? “quotes”, \\ backslash, \u0001 control, emoji 🌦️' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","deep":{"a":[1,2.5,null,true]}}' } }, { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: '18 °C' },
          { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '15 °C' }] },
          { role: 'assistant', content: 'Paris 18 °C, Köln 15 °C.' },
          { role: 'user', content: 'And tomorrow?' },
        ],
        temperature: 0.7,
        top_p: 0.95,
        max_tokens: 300,
        stop: ['END', '\n\n'],
        tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string', enum: ['Paris', 'Köln'] } }, required: ['city'] } } }],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
      },
      7,
    ),
  ],
  ['tool history without tools', input({ messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: 'ok', tool_calls: [{ id: 't1', type: 'function', function: { name: 'lookup', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 't1', content: 'r' }] })],
  ['tool_choice required', input({ messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'required' })],
  [
    'images (bytes are base64 on the wire)',
    input({
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }] },
        { role: 'assistant', content: 'A tiny PNG.' },
        { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/' } }] },
      ],
    }, 2),
  ],
  ['a prefill', input({ messages: [{ role: 'user', content: 'Answer in JSON' }, { role: 'assistant', content: '{ ' }] })],
  [
    'structured output (json_schema → outputConfig) with a system prompt, history and tools',
    input(
      {
        messages: [
          { role: 'system', content: 'Extract people.' },
          { role: 'user', content: 'Ada, 36' },
          { role: 'assistant', content: '{"name":"Ada","age":36}' },
          { role: 'user', content: 'Grace, “85”' },
        ],
        temperature: 0,
        tools: [{ type: 'function', function: { name: 'f' } }],
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'person',
            description: 'A person, with \"quotes\" and ünïcode',
            strict: true,
            schema: { type: 'object', properties: { name: { type: 'string' }, age: { type: ['integer', 'null'] } }, required: ['name', 'age'], additionalProperties: false },
          },
        },
      },
      3,
    ),
  ],
  ['structured output without name or description', input({ messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_schema', json_schema: { schema: { type: 'object', properties: {}, additionalProperties: false } } } })],
  ['JSON mode (an instruction after the system cache point)', input({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'json please' }], response_format: { type: 'json_object' } }, 0)],
];

describe('converseBody', () => {
  it.each(FIXED)('%s: the same document the SDK writes', async (_, converse) => {
    const ours = converseBody(converse);
    expect(JSON.parse(ours)).toEqual(JSON.parse(await sdkBody(converse)));
  });

  it('structured output: byte for byte the body the SDK writes (member order included)', async () => {
    const converse = FIXED.find(([name]) => name.startsWith('structured output (json_schema'))![1];
    expect(converse.outputConfig?.textFormat?.structure?.jsonSchema?.schema).toBe('{"type":"object","properties":{"name":{"type":"string"},"age":{"type":["integer","null"]}},"required":["name","age"],"additionalProperties":false}');
    expect(converseBody(converse)).toBe(await sdkBody(converse));
  });

  it('a Buffer (not only a Uint8Array) is still written as base64', () => {
    const converse: ConverseInput = { modelId: MODEL_ID, messages: [{ role: 'user', content: [{ image: { format: 'png', source: { bytes: Buffer.from(PNG, 'base64') } } }] }] };
    expect(JSON.parse(converseBody(converse))).toEqual({ messages: [{ role: 'user', content: [{ image: { format: 'png', source: { bytes: PNG } } }] }] });
  });

  const text = fc.oneof(fc.constantFrom('', ' ', 'a\nb', 'trailing ', '"quoted"', '\\', '\u2028', 'é🦊'), fc.string({ maxLength: 16 }), fc.string({ unit: 'grapheme', maxLength: 8 }));
  const message = fc.oneof(
    fc.record({ role: fc.constantFrom('system', 'user', 'developer'), content: fc.oneof(text, fc.array(text.map((t) => ({ type: 'text', text: t })), { maxLength: 3 })) }),
    fc.record({ role: fc.constant('assistant'), content: fc.option(text, { nil: null }) }),
  );
  const schemaFormat = fc.record({ name: text, description: text, schema: fc.record({ type: fc.constant('object'), properties: fc.dictionary(text, fc.record({ type: fc.constantFrom('string', 'integer', 'boolean') })), additionalProperties: fc.constant(false) }) });
  const responseFormat = fc.option(fc.oneof(schemaFormat.map((json_schema) => ({ type: 'json_schema', json_schema })), fc.constant({ type: 'json_object' }), fc.constant({ type: 'text' })), { nil: undefined });
  it('random conversations: the same document the SDK writes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 8 }), fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }), fc.nat(8), responseFormat, async (messages, temperature, history, response_format) => {
        let converse: ConverseInput;
        try {
          converse = input({ messages: messages as ChatMessage[], ...(temperature !== undefined && { temperature }), ...(response_format !== undefined && { response_format }) }, Math.min(history, messages.length));
        } catch (err) {
          if (err instanceof GatewayError && err.status === 400) return;
          throw err;
        }
        expect(JSON.parse(converseBody(converse))).toEqual(JSON.parse(await sdkBody(converse)));
      }),
      { numRuns: 150 },
    );
  });
});

describe('the gateway client', () => {
  it.each([
    ['Converse', ConverseCommand, 'converse'],
    ['ConverseStream', ConverseStreamCommand, 'converse-stream'],
  ] as const)('%s: sends body.ts output, with its content length and payload hash, to the model path; the command keeps its input', async (_, Command, op) => {
    const converse = FIXED[1]![1];
    const { client, sent } = gatewayClient();
    const command = new Command(converse);
    await client.send(command as ConverseCommand).catch(() => undefined);
    expect(sent).toHaveLength(1);
    const request = sent[0]!;
    const body = converseBody(converse);
    expect(request.body).toBe(body);
    expect(request.path).toBe(`/model/${encodeURIComponent(MODEL_ID)}/${op}`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(request.headers['x-amz-content-sha256']).toBe(createHash('sha256').update(body).digest('hex'));
    expect(request.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 .*SignedHeaders=[^,]*content-length/);
    expect(command.input).toBe(converse);
    client.destroy();
  });

  it('an input with a prepared body (a kept history): that body and its hash are sent, not one written from the input', async () => {
    const full = FIXED[1]![1];
    const body = Buffer.from(converseBody(full));
    const sha256 = createHash('sha256').update(body).digest('hex');
    // The input lacks the messages the prepared body already holds.
    const partial = withPreparedBody({ ...full, messages: full.messages.slice(-1) }, { body, sha256 });
    const { client, sent } = gatewayClient();
    await client.send(new ConverseStreamCommand(partial)).catch(() => undefined);
    expect(sent[0]!.body).toBe(body.toString());
    expect(sent[0]!.headers['x-amz-content-sha256']).toBe(sha256);
    expect(sent[0]!.headers['content-length']).toBe(String(body.length));
    client.destroy();
  });
});
