// Structured output (outputConfig.textFormat) through the real SDK: the answer is one JSON document
// that conforms to the schema, on Converse and ConverseStream, billed consistently; malformed
// configurations are ValidationExceptions before anything is generated.
import { ConverseCommand, ConverseStreamCommand, ValidationException, type ConverseCommandInput, type OutputConfig } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BedrockSimulator } from '../../../src/simulators/bedrock/index.js';
import { schemaInstance } from '../../../src/simulators/schema-instance.js';
import { textTokens } from '../../../src/simulators/bedrock/tokens.js';
import { client, SONNET, startSim, user } from './helpers.js';

let sim: BedrockSimulator;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.requests.length = 0;
});

const PERSON = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    age: { type: 'integer' },
    score: { type: 'number' },
    member: { type: 'boolean' },
    role: { type: 'string', enum: ['admin', 'user'] },
    tags: { type: 'array', items: { type: 'string' } },
    address: { type: 'object', properties: { city: { type: 'string' }, zip: { type: ['string', 'null'] } }, required: ['city', 'zip'], additionalProperties: false },
    contact: { anyOf: [{ type: 'object', properties: { email: { type: 'string', format: 'email' } }, required: ['email'], additionalProperties: false }, { type: 'null' }] },
    nickname: { type: 'string' },
  },
  required: ['name', 'age', 'score', 'member', 'role', 'tags', 'address', 'contact'],
  additionalProperties: false,
};
const EXPECTED = { name: 'Ada', age: 36, score: 36, member: true, role: 'admin', tags: ['Ada'], address: { city: 'Ada', zip: 'Ada' }, contact: { email: 'user@example.com' } };

const outputConfig = (schema: unknown, extra: { name?: string; description?: string } = {}): OutputConfig => ({
  textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: typeof schema === 'string' ? schema : JSON.stringify(schema), ...extra } } },
});
const ask = (extra: Partial<ConverseCommandInput> = {}): ConverseCommandInput => ({ modelId: SONNET, messages: [user('Extract: "Ada" is 36 years old.')], outputConfig: outputConfig(PERSON, { name: 'person', description: 'A person' }), ...extra });

describe('answers conforming to the schema', () => {
  it('Converse: the text is the JSON instance (required properties in declared order, enums, nested objects, anyOf first non-null branch), end_turn', async () => {
    const bedrock = client(sim, 'http1');
    const res = await bedrock.send(new ConverseCommand(ask()));
    bedrock.destroy();
    expect(res.stopReason).toBe('end_turn');
    const content = res.output?.message?.content ?? [];
    expect(content).toHaveLength(1);
    const text = content[0]!.text!;
    expect(JSON.parse(text)).toEqual(EXPECTED);
    expect(Object.keys(JSON.parse(text) as object)).toEqual(Object.keys(EXPECTED));
    expect(res.usage?.outputTokens).toBe(textTokens(text));
  });

  it('ConverseStream: the same JSON as text deltas in one block, then messageStop and usage', async () => {
    const bedrock = client(sim, 'http2');
    const res = await bedrock.send(new ConverseStreamCommand(ask()));
    let text = '';
    let deltas = 0;
    let stop: string | undefined;
    let usage: { inputTokens?: number; outputTokens?: number } | undefined;
    for await (const event of res.stream!) {
      if (event.contentBlockDelta?.delta?.text !== undefined) {
        expect(event.contentBlockDelta.contentBlockIndex).toBe(0);
        text += event.contentBlockDelta.delta.text;
        deltas += 1;
      }
      if (event.messageStop) stop = event.messageStop.stopReason;
      if (event.metadata) usage = event.metadata.usage;
    }
    bedrock.destroy();
    expect(deltas).toBeGreaterThan(1);
    expect(JSON.parse(text)).toEqual(EXPECTED);
    expect(stop).toBe('end_turn');
    expect(usage?.outputTokens).toBe(textTokens(text));
  });

  it('the schema is billed as input, after the prompt; the bill recorded is the usage reported', async () => {
    const bedrock = client(sim, 'http1');
    const plain = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: ask().messages }));
    const structured = await bedrock.send(new ConverseCommand(ask()));
    bedrock.destroy();
    expect(structured.usage!.inputTokens! - plain.usage!.inputTokens!).toBe(textTokens(JSON.stringify(PERSON)));
    expect(sim.requests.at(-1)!.billed).toEqual({ inputTokens: structured.usage!.inputTokens, outputTokens: structured.usage!.outputTokens, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 });
  });

  it('maxTokens cuts the JSON like any text: max_tokens and an incomplete document', async () => {
    const bedrock = client(sim, 'http1');
    const res = await bedrock.send(new ConverseCommand(ask({ inferenceConfig: { maxTokens: 4 } })));
    bedrock.destroy();
    expect(res.stopReason).toBe('max_tokens');
    const text = res.output!.message!.content![0]!.text!;
    expect(text).toBe(JSON.stringify(EXPECTED).slice(0, 16));
    expect(() => JSON.parse(text)).toThrow();
  });

  it('with tools: a requested tool is still called first; the answer after its result is the JSON', async () => {
    const bedrock = client(sim, 'http1');
    const toolConfig = { tools: [{ toolSpec: { name: 'lookup', inputSchema: { json: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } } } }] };
    const first = await bedrock.send(new ConverseCommand(ask({ toolConfig, messages: [user('Use the lookup tool for "Ada"')] })));
    expect(first.stopReason).toBe('tool_use');
    const toolUse = first.output!.message!.content!.find((b) => b.toolUse)!.toolUse!;
    const second = await bedrock.send(
      new ConverseCommand(
        ask({ toolConfig, messages: [user('Use the lookup tool for "Ada"'), first.output!.message!, { role: 'user', content: [{ toolResult: { toolUseId: toolUse.toolUseId, content: [{ text: '"Ada" is 36' }] } }] }] }),
      ),
    );
    bedrock.destroy();
    expect(second.stopReason).toBe('end_turn');
    expect(JSON.parse(second.output!.message!.content![0]!.text!)).toMatchObject({ name: 'Ada', age: 36 });
  });
});

describe('the instance generator', () => {
  it.each([
    ['const and enum', { type: 'object', properties: { a: { const: 'x' }, b: { enum: [3, 4] } }, required: ['a', 'b'], additionalProperties: false }, { a: 'x', b: 3 }],
    ['bounds', { type: 'object', properties: { n: { type: 'integer', minimum: 100 }, m: { type: 'number', maximum: 2 }, s: { type: 'string', minLength: 5, maxLength: 6 } }, required: ['n', 'm', 's'], additionalProperties: false }, { n: 100, m: 2, s: 'hi 7.' }],
    ['arrays: minItems, maxItems 0, prefixItems', { type: 'object', properties: { a: { type: 'array', items: { type: 'integer' }, minItems: 2 }, b: { type: 'array', items: { type: 'string' }, maxItems: 0 }, c: { type: 'array', prefixItems: [{ type: 'boolean' }, { type: 'null' }] } }, required: ['a', 'b', 'c'], additionalProperties: false }, { a: [7, 7], b: [], c: [true, null] }],
    ['$ref to $defs, allOf merged', { type: 'object', properties: { p: { $ref: '#/$defs/P' }, q: { allOf: [{ type: 'object', properties: { x: { type: 'boolean' } }, required: ['x'] }, { properties: { y: { type: 'integer' } }, required: ['y'] }] } }, required: ['p', 'q'], additionalProperties: false, $defs: { P: { type: 'object', properties: { v: { type: 'string' } }, required: ['v'], additionalProperties: false } } }, { p: { v: 'hi 7' }, q: { x: true, y: 7 } }],
    ['a recursive schema ends', { type: 'object', properties: { children: { type: 'array', items: { $ref: '#' } } }, required: ['children'], additionalProperties: false }, undefined],
  ])('%s', (_, schema, expected) => {
    const value = schemaInstance(schema, { userText: 'hi 7' });
    if (expected !== undefined) expect(value).toEqual(expected);
    else expect(JSON.stringify(value).length).toBeLessThan(1000);
  });
});

describe('ValidationException for a malformed outputConfig', () => {
  const cases: Array<[string, unknown, string]> = [
    ['a schema that is not JSON', outputConfig('{"type": "object",'), 'The JSON schema at outputConfig.textFormat.structure.jsonSchema.schema is not valid JSON. Provide a valid JSON schema and try again.'],
    ['a schema that is JSON but not an object', outputConfig('[1, 2]'), 'The JSON schema at outputConfig.textFormat.structure.jsonSchema.schema must be a JSON object. Provide a valid JSON schema and try again.'],
    ['a schema sent as a document instead of a string', { textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: { type: 'object' } } } } }, 'Malformed input request: outputConfig.textFormat.structure.jsonSchema.schema must be a string containing a JSON schema, please reformat your input and try again.'],
    ['no schema', { textFormat: { type: 'json_schema', structure: { jsonSchema: { name: 'x' } } } }, "1 validation error detected: Value at 'outputConfig.textFormat.structure.jsonSchema.schema' failed to satisfy constraint: Member must not be null"],
    ['an unknown type', { textFormat: { type: 'xml', structure: { jsonSchema: { schema: '{}' } } } }, "1 validation error detected: Value 'xml' at 'outputConfig.textFormat.type' failed to satisfy constraint: Member must satisfy enum value set: [json_schema]"],
    ['no structure', { textFormat: { type: 'json_schema' } }, "1 validation error detected: Value at 'outputConfig.textFormat.structure' failed to satisfy constraint: Member must not be null"],
    [
      'an open object (additionalProperties not false)',
      outputConfig({ type: 'object', properties: { a: { type: 'object', properties: {} } }, additionalProperties: false }),
      "The JSON schema at outputConfig.textFormat.structure.jsonSchema.schema is not supported: an object schema must set 'additionalProperties' to false (at #/properties/a).",
    ],
  ];
  it.each(cases)('%s', async (_, config, message) => {
    const bedrock = client(sim, 'http1');
    for (const Command of [ConverseCommand, ConverseStreamCommand]) {
      const err = await bedrock.send(new Command({ modelId: SONNET, messages: [user('hi')], outputConfig: config as OutputConfig }) as ConverseCommand).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationException);
      expect((err as ValidationException).$metadata.httpStatusCode).toBe(400);
      expect((err as Error).message).toBe(message);
    }
    bedrock.destroy();
  });

  it('an outputConfig without textFormat (effort only) is accepted and answered in prose', async () => {
    const bedrock = client(sim, 'http1');
    const res = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('hi')], outputConfig: { effort: 'low' } }));
    bedrock.destroy();
    expect(res.output?.message?.content?.[0]?.text).toContain('Simulated answer');
  });
});
