// Structured output on a session route (Bedrock's outputConfig behind the gateway), driven by the
// clients that ask for it: openai-node's `chat.completions.parse` / `.stream` with `zodResponseFormat`,
// the Vercel AI SDK's `generateObject` / `streamObject`, LangChain's `withStructuredOutput`.
import { createOpenAI } from '@ai-sdk/openai';
import { ChatOpenAI } from '@langchain/openai';
import { generateObject, streamObject } from 'ai';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { KEY, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let client: OpenAI;
beforeAll(async () => {
  stack = await startStack();
  client = new OpenAI({ apiKey: KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
});
afterAll(() => stack.close());

const session = (id: string) => ({ headers: { 'x-session-id': id } });

const Person = z.object({
  name: z.string(),
  age: z.int(),
  role: z.enum(['engineer', 'manager']),
  skills: z.array(z.string()),
  address: z.object({ city: z.string(), zip: z.string().nullable() }),
});

type SentBody = { messages: unknown[]; outputConfig?: { textFormat: { type: string; structure: { jsonSchema: { schema: string; name?: string } } } } };
const lastSent = () => stack.bedrock.requests.at(-1)!.body as SentBody;

describe('openai-node structured output helpers on a session', () => {
  it('chat.completions.parse with zodResponseFormat: a parsed object, over two turns of one session', async () => {
    const first = await client.chat.completions
      .parse({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Extract: "Ada Lovelace", 36, engineer.' }], response_format: zodResponseFormat(Person, 'person') }, session('parse-1'))
      .withResponse();
    expect(first.response.headers.get('x-stateroute-route')).toBe('stateful');
    const message = first.data.choices[0]!.message;
    expect(message.parsed).toEqual({ name: 'Ada Lovelace', age: 36, role: 'engineer', skills: ['Ada Lovelace'], address: { city: 'Ada Lovelace', zip: 'Ada Lovelace' } });
    expect(message.refusal).toBeNull();
    expect(first.data.choices[0]!.finish_reason).toBe('stop');
    const sent = lastSent();
    expect(sent.outputConfig?.textFormat.type).toBe('json_schema');
    expect(sent.outputConfig?.textFormat.structure.jsonSchema.name).toBe('person');
    expect(JSON.parse(sent.outputConfig!.textFormat.structure.jsonSchema.schema)).toEqual(zodResponseFormat(Person, 'person').json_schema.schema);

    // Second turn: only the new message is sent; the stored history (with the JSON answer) goes upstream.
    const second = await client.chat.completions.parse({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Now "Grace Hopper", 85.' }], response_format: zodResponseFormat(Person, 'person') }, session('parse-1'));
    expect(second.choices[0]!.message.parsed).toMatchObject({ name: 'Grace Hopper', age: 85 });
    expect(lastSent().messages).toHaveLength(3);
  });

  it('chat.completions.stream with zodResponseFormat: content deltas that assemble to the parsed object', async () => {
    const stream = client.chat.completions.stream(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'Extract: "Linus", 55.' }], response_format: zodResponseFormat(Person, 'person'), stream_options: { include_usage: true } },
      session('parse-stream'),
    );
    let deltas = 0;
    stream.on('content.delta', () => (deltas += 1));
    const final = await stream.finalChatCompletion();
    expect(deltas).toBeGreaterThan(1);
    expect(final.choices[0]!.message.parsed).toMatchObject({ name: 'Linus', age: 55, role: 'engineer' });
    expect(final.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('a plain json_schema request (no helper) and json_object mode on a session', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'boolean' } }, required: ['answer'], additionalProperties: false };
    const res = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Is 7 prime?' }], response_format: { type: 'json_schema', json_schema: { name: 'yes_no', schema, strict: true } } }, session('plain'));
    expect(JSON.parse(res.choices[0]!.message.content!)).toEqual({ answer: true });

    // JSON mode has no Converse equivalent: the gateway tells the model, and Bedrock answers as the model does.
    const mode = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Reply in JSON' }], response_format: { type: 'json_object' } }, session('json-mode'));
    expect(mode.choices[0]!.message.content).toBeTypeOf('string');
    const sent = stack.bedrock.requests.at(-1)!.body as { system: Array<{ text?: string }>; outputConfig?: unknown };
    expect(sent.outputConfig).toBeUndefined();
    expect(sent.system.at(-1)?.text).toMatch(/^Respond with a single valid JSON object/);
  });

  it('still refused with a clear 400: a json_schema without a schema; an open schema Bedrock rejects is its 400', async () => {
    const missing = await client.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_schema', json_schema: { name: 'nothing' } } }, session('refused'))
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.BadRequestError);
    expect(missing).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'response_format' });
    expect((missing as Error).message).toContain('`response_format.json_schema.schema` is required');

    const open = await client.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_schema', json_schema: { name: 'open', schema: { type: 'object', properties: { a: { type: 'string' } } } } } }, session('refused'))
      .catch((e: unknown) => e);
    expect(open).toBeInstanceOf(OpenAI.BadRequestError);
    expect((open as Error).message).toContain("must set 'additionalProperties' to false");
  });
});

describe('Vercel AI SDK on a session', () => {
  const provider = (id: string) => createOpenAI({ baseURL: `${stack.url}/v1`, apiKey: KEY, headers: { 'x-session-id': id } });

  it('generateObject over Chat Completions: json_schema with the schema, a typed object back', async () => {
    const { object, usage } = await generateObject({ model: provider('ai-obj').chat('gpt-4o'), schema: Person, schemaName: 'person', prompt: 'Extract: "Barbara Liskov", 86, engineer.' });
    expect(object).toMatchObject({ name: 'Barbara Liskov', age: 86, role: 'engineer' });
    expect(usage.outputTokens).toBeGreaterThan(0);
    const sent = lastSent();
    expect(sent.outputConfig?.textFormat.structure.jsonSchema.name).toBe('person');
    expect(JSON.parse(sent.outputConfig!.textFormat.structure.jsonSchema.schema)).toMatchObject({ type: 'object', required: ['name', 'age', 'role', 'skills', 'address'], additionalProperties: false });
  });

  it('streamObject over Chat Completions: partial objects, then the whole one', async () => {
    const before = stack.bedrock.requests.length;
    const result = streamObject({ model: provider('ai-stream').chat('gpt-4o'), schema: Person, prompt: 'Extract: "Alan Kay", 86.' });
    let partials = 0;
    for await (const _ of result.partialObjectStream) partials += 1;
    expect(partials).toBeGreaterThan(1);
    expect(await result.object).toMatchObject({ name: 'Alan Kay', age: 86 });
    expect(stack.bedrock.requests.length).toBe(before + 1);
    expect(stack.bedrock.requests.at(-1)).toMatchObject({ operation: 'converse-stream' });
    expect(lastSent().outputConfig?.textFormat.type).toBe('json_schema');
  });

  it('generateObject over the default provider (Responses API: text.format → the same outputConfig)', async () => {
    const before = stack.bedrock.requests.length;
    const { object } = await generateObject({ model: provider('ai-responses')('gpt-4o'), schema: Person, schemaName: 'person', prompt: 'Extract: "Edsger Dijkstra", 72.' });
    expect(object).toMatchObject({ name: 'Edsger Dijkstra', age: 72 });
    expect(stack.bedrock.requests.length).toBe(before + 1);
    expect(lastSent().outputConfig?.textFormat.structure.jsonSchema.name).toBe('person');
  });
});

describe('LangChain on a session', () => {
  it('withStructuredOutput (jsonSchema method): a parsed object', async () => {
    const model = new ChatOpenAI({ model: 'gpt-4o', apiKey: KEY, maxRetries: 0, configuration: { baseURL: `${stack.url}/v1`, defaultHeaders: { 'x-session-id': 'lc-structured' } } });
    const structured = model.withStructuredOutput(Person, { name: 'person', method: 'jsonSchema' });
    const person = await structured.invoke('Extract: "Margaret Hamilton", 88, manager.');
    expect(person).toMatchObject({ name: 'Margaret Hamilton', age: 88, role: 'engineer' });
    expect(lastSent().outputConfig?.textFormat.structure.jsonSchema.name).toBe('person');
  });
});

// The same clients on a stateless route: `response_format` goes to Azure as the client wrote it,
// and the Azure simulator answers it as Azure does (a JSON instance of the schema).
describe('structured output on a stateless route (Azure response_format)', () => {
  const lastAzure = () => stack.azure.requests.at(-1)!.body as { response_format?: { type: string; json_schema?: { name: string; schema: unknown } } };

  it('openai-node parse, the AI SDK generateObject (Chat Completions), LangChain withStructuredOutput', async () => {
    const parsed = await client.chat.completions.parse({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Extract: "Grace Hopper", 85, engineer.' }], response_format: zodResponseFormat(Person, 'person') });
    expect(parsed.choices[0]!.message.parsed).toMatchObject({ name: 'Grace Hopper', age: 85, role: 'engineer' });
    expect(lastAzure().response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'person' } });

    const provider = createOpenAI({ baseURL: `${stack.url}/v1`, apiKey: KEY });
    const { object } = await generateObject({ model: provider.chat('gpt-4o'), schema: Person, prompt: 'Extract: "Ada Lovelace", 36.' });
    expect(object).toMatchObject({ name: 'Ada Lovelace', age: 36 });

    const model = new ChatOpenAI({ model: 'gpt-4o', apiKey: KEY, maxRetries: 0, configuration: { baseURL: `${stack.url}/v1` } });
    const person = await model.withStructuredOutput(Person, { name: 'person', method: 'jsonSchema' }).invoke('Extract: "Katherine Johnson", 101.');
    expect(person).toMatchObject({ name: 'Katherine Johnson', age: 101 });
    expect(lastAzure().response_format?.type).toBe('json_schema');
  });
});
