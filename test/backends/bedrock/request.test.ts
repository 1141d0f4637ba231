import { describe, expect, it } from 'vitest';
import { JSON_MODE_INSTRUCTION, resolveModel, toConverseInput, type ConverseRequestOptions } from '../../../src/backends/bedrock/request.js';
import type { ChatBody, ChatMessage } from '../../../src/backends/types.js';
import { GatewayError } from '../../../src/errors.js';

const MODEL = 'anthropic.claude-haiku-4-5-20251001-v1:0';
const body = (messages: ChatMessage[], extra: Record<string, unknown> = {}): ChatBody => ({ model: 'haiku', messages, ...extra });
const convert = (b: ChatBody, options: Partial<ConverseRequestOptions> = {}) =>
  toConverseInput({ body: b, modelId: MODEL, promptCache: false, ...options });

function rejection(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error('expected a GatewayError');
}

const PNG_B64 = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]).toString('base64');
const CP = { cachePoint: { type: 'default' } };

describe('messages → Converse', () => {
  const cases: Array<{ name: string; messages: ChatMessage[]; system?: unknown; messagesOut: unknown }> = [
    {
      name: 'user string',
      messages: [{ role: 'user', content: 'hi' }],
      messagesOut: [{ role: 'user', content: [{ text: 'hi' }] }],
    },
    {
      name: 'system and developer → system, in order',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'developer', content: [{ type: 'text', text: 'use metric' }] },
        { role: 'user', content: 'hi' },
      ],
      system: [{ text: 'be brief' }, { text: 'use metric' }],
      messagesOut: [{ role: 'user', content: [{ text: 'hi' }] }],
    },
    {
      name: 'user text parts',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }],
      messagesOut: [{ role: 'user', content: [{ text: 'a' }, { text: 'b' }] }],
    },
    {
      name: 'consecutive user messages merge',
      messages: [
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
        { role: 'assistant', content: 'c' },
        { role: 'assistant', content: [{ type: 'text', text: 'd' }] },
      ],
      messagesOut: [
        { role: 'user', content: [{ text: 'a' }, { text: 'b' }] },
        { role: 'assistant', content: [{ text: 'c' }, { text: 'd' }] },
      ],
    },
    {
      name: 'empty text dropped, an emptied message drops out and its neighbours merge',
      messages: [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: '' },
        { role: 'user', content: [{ type: 'text', text: '  ' }, { type: 'text', text: 'b' }] },
      ],
      messagesOut: [{ role: 'user', content: [{ text: 'a' }, { text: 'b' }] }],
    },
    {
      name: 'assistant tool_calls → toolUse, tool messages → merged toolResult user message',
      messages: [
        { role: 'user', content: 'weather in Paris and Oslo?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18C' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '7C' }] },
      ],
      messagesOut: [
        { role: 'user', content: [{ text: 'weather in Paris and Oslo?' }] },
        {
          role: 'assistant',
          content: [
            { toolUse: { toolUseId: 'call_1', name: 'get_weather', input: { city: 'Paris' } } },
            { toolUse: { toolUseId: 'call_2', name: 'get_weather', input: { city: 'Oslo' } } },
          ],
        },
        {
          role: 'user',
          content: [
            { toolResult: { toolUseId: 'call_1', content: [{ text: '18C' }] } },
            { toolResult: { toolUseId: 'call_2', content: [{ text: '7C' }] } },
          ],
        },
      ],
    },
    {
      name: 'assistant text + tool call; empty arguments mean {}; a user message after tool results merges',
      messages: [
        { role: 'user', content: 'time?' },
        { role: 'assistant', content: 'checking', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'now', arguments: '' } }] },
        { role: 'tool', tool_call_id: 'c1', content: '' },
        { role: 'user', content: 'thanks' },
      ],
      messagesOut: [
        { role: 'user', content: [{ text: 'time?' }] },
        { role: 'assistant', content: [{ text: 'checking' }, { toolUse: { toolUseId: 'c1', name: 'now', input: {} } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: 'c1', content: [] } }, { text: 'thanks' }] },
      ],
    },
    {
      name: 'a final assistant prefill loses its trailing whitespace (Claude refuses it); earlier ones keep it',
      messages: [
        { role: 'user', content: 'list' },
        { role: 'assistant', content: 'a \n' },
        { role: 'user', content: 'more' },
        { role: 'assistant', content: 'Sure: ' },
      ],
      messagesOut: [
        { role: 'user', content: [{ text: 'list' }] },
        { role: 'assistant', content: [{ text: 'a \n' }] },
        { role: 'user', content: [{ text: 'more' }] },
        { role: 'assistant', content: [{ text: 'Sure:' }] },
      ],
    },
    {
      name: 'assistant refusal part counts as text',
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: [{ type: 'refusal', refusal: 'no' }] },
        { role: 'user', content: 'y' },
      ],
      messagesOut: [
        { role: 'user', content: [{ text: 'x' }] },
        { role: 'assistant', content: [{ text: 'no' }] },
        { role: 'user', content: [{ text: 'y' }] },
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const input = convert(body(c.messages));
      expect(input.messages).toEqual(c.messagesOut);
      expect(input.system).toEqual(c.system);
      expect(input.modelId).toBe(MODEL);
    });
  }

  it('images from data URLs become image blocks with the format from the MIME type', () => {
    const formats = [
      ['image/png', 'png'],
      ['image/jpeg', 'jpeg'],
      ['image/jpg', 'jpeg'],
      ['image/gif', 'gif'],
      ['image/webp', 'webp'],
    ] as const;
    for (const [mime, format] of formats) {
      const input = convert(body([{ role: 'user', content: [{ type: 'text', text: 'what is it' }, { type: 'image_url', image_url: { url: `data:${mime};base64,${PNG_B64}` } }] }]));
      expect(input.messages[0]?.content).toEqual([
        { text: 'what is it' },
        { image: { format, source: { bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]) } } },
      ]);
    }
  });

  it('tool history without tools declares the used tool names so Bedrock accepts the blocks', () => {
    const input = convert(
      body([
        { role: 'user', content: 'q' },
        { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'r' },
      ]),
    );
    expect(input.toolConfig).toEqual({ tools: [{ toolSpec: { name: 'lookup', inputSchema: { json: { type: 'object', properties: {} } } } }] });
  });
});

describe('message errors', () => {
  const cases: Array<{ name: string; messages: unknown[]; param: string; code?: string; message?: RegExp }> = [
    { name: 'first message from the assistant', messages: [{ role: 'assistant', content: 'hi' }, { role: 'user', content: 'x' }], param: 'messages', message: /first non-system message must be from the user/ },
    { name: 'only system messages', messages: [{ role: 'system', content: 's' }], param: 'messages' },
    { name: 'unknown role', messages: [{ role: 'user', content: 'x' }, { role: 'function', content: 'y' }], param: 'messages[1].role' },
    { name: 'remote image URL', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }], param: 'messages[0].content[0].image_url.url', code: 'invalid_image_url', message: /base64 data URL/ },
    { name: 'unsupported image type', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/tiff;base64,${PNG_B64}` } }] }], param: 'messages[0].content[0].image_url.url', code: 'invalid_image_format' },
    { name: 'non-base64 data URL', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png,rawbytes' } }] }], param: 'messages[0].content[0].image_url.url' },
    { name: 'bad base64', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,@@@' } }] }], param: 'messages[0].content[0].image_url.url' },
    { name: 'audio part', messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'input_audio', input_audio: {} }] }], param: 'messages[0].content[1].type' },
    { name: 'text part without text', messages: [{ role: 'user', content: [{ type: 'text' }] }], param: 'messages[0].content[0].text' },
    {
      name: 'tool call arguments not JSON',
      messages: [{ role: 'user', content: 'x' }, { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{bad' } }] }],
      param: 'messages[1].tool_calls[0].function.arguments',
      message: /not valid JSON/,
    },
    {
      name: 'tool call arguments not an object',
      messages: [{ role: 'user', content: 'x' }, { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '[1,2]' } }] }],
      param: 'messages[1].tool_calls[0].function.arguments',
      message: /JSON object/,
    },
    {
      name: 'tool call with a bad name',
      messages: [{ role: 'user', content: 'x' }, { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'has space', arguments: '{}' } }] }],
      param: 'messages[1].tool_calls[0].function.name',
    },
    {
      name: 'tool call with a bad id',
      messages: [{ role: 'user', content: 'x' }, { role: 'assistant', tool_calls: [{ id: 'c 1', type: 'function', function: { name: 'f', arguments: '{}' } }] }],
      param: 'messages[1].tool_calls[0].id',
    },
    { name: 'tool message without tool_call_id', messages: [{ role: 'user', content: 'x' }, { role: 'tool', content: 'r' }], param: 'messages[1].tool_call_id' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const err = rejection(() => convert(body(c.messages as ChatMessage[])));
      expect(err.status).toBe(400);
      expect(err.type).toBe('invalid_request_error');
      expect(err.param).toBe(c.param);
      if (c.code) expect(err.code).toBe(c.code);
      if (c.message) expect(err.message).toMatch(c.message);
    });
  }
});

describe('top-level fields', () => {
  const user: ChatMessage[] = [{ role: 'user', content: 'hi' }];

  it('max_tokens, temperature, top_p and stop as a string', () => {
    expect(convert(body(user, { max_tokens: 100, temperature: 0.2, top_p: 0.9, stop: 'END' })).inferenceConfig).toEqual({
      maxTokens: 100,
      temperature: 0.2,
      topP: 0.9,
      stopSequences: ['END'],
    });
  });

  it('max_completion_tokens wins over max_tokens; stop as a list', () => {
    expect(convert(body(user, { max_tokens: 100, max_completion_tokens: 50, stop: ['a', 'b'] })).inferenceConfig).toEqual({ maxTokens: 50, stopSequences: ['a', 'b'] });
  });

  it('no inference fields → no inferenceConfig; ignored fields are ignored', () => {
    const input = convert(body(user, { seed: 1, user: 'u', presence_penalty: 0, stream_options: { include_usage: true }, n: 1, logprobs: false, stop: null }));
    expect(input.inferenceConfig).toBeUndefined();
    expect(Object.keys(input).sort()).toEqual(['messages', 'modelId']);
  });

  const unsupported: Array<[string, Record<string, unknown>, string]> = [
    ['n > 1', { n: 2 }, 'n'],
    ['logprobs', { logprobs: true }, 'logprobs'],
    ['top_logprobs', { top_logprobs: 2 }, 'top_logprobs'],
    ['json_schema response_format', { response_format: { type: 'json_schema', json_schema: { name: 'x' } } }, 'response_format'],
    ['json_schema response_format with a null schema', { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: null, strict: true } } }, 'response_format'],
    ['an unknown response_format type', { response_format: { type: 'grammar', grammar: 'root ::= "a"' } }, 'response_format'],
    ['audio output', { modalities: ['text', 'audio'] }, 'modalities'],
  ];
  for (const [name, extra, param] of unsupported) {
    it(`${name} → 400 unsupported_parameter`, () => {
      const err = rejection(() => convert(body(user, extra)));
      expect([err.status, err.param, err.code]).toEqual([400, param, 'unsupported_parameter']);
    });
  }

  const invalid: Array<[string, Record<string, unknown>, string]> = [
    ['max_tokens 0', { max_tokens: 0 }, 'max_tokens'],
    ['max_completion_tokens fractional', { max_completion_tokens: 1.5 }, 'max_completion_tokens'],
    ['temperature as a string', { temperature: '1' }, 'temperature'],
    ['stop as a number', { stop: 3 }, 'stop'],
    ['stop list with a number', { stop: ['a', 3] }, 'stop'],
    ['messages not an array', { messages: 'hi' }, 'messages'],
    ['response_format a string', { response_format: 'json_object' }, 'response_format'],
    ['json_schema without its json_schema object', { response_format: { type: 'json_schema' } }, 'response_format.json_schema'],
    ['json_schema whose schema is not an object', { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: '{"type":"object"}' } } }, 'response_format.json_schema.schema'],
    ['json_schema whose schema is a list', { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: [] } } }, 'response_format.json_schema.schema'],
    ['json_schema with a numeric name', { response_format: { type: 'json_schema', json_schema: { name: 7, schema: {} } } }, 'response_format.json_schema.name'],
    ['json_schema with an object description', { response_format: { type: 'json_schema', json_schema: { name: 'x', description: {}, schema: {} } } }, 'response_format.json_schema.description'],
  ];
  for (const [name, extra, param] of invalid) {
    it(`${name} → 400 with param`, () => {
      const err = rejection(() => convert(body(user, extra)));
      expect([err.status, err.param]).toEqual([400, param]);
    });
  }
});

describe('response_format', () => {
  const user: ChatMessage[] = [{ role: 'user', content: 'Ada is 36' }];
  const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'], additionalProperties: false };

  it('json_schema → outputConfig.textFormat with the schema as a JSON string, its name and description', () => {
    const input = convert(body(user, { response_format: { type: 'json_schema', json_schema: { name: 'person', description: 'A person', schema, strict: true } } }));
    expect(input.outputConfig).toEqual({ textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: JSON.stringify(schema), name: 'person', description: 'A person' } } } });
    expect(JSON.parse(input.outputConfig!.textFormat!.structure!.jsonSchema!.schema!)).toEqual(schema);
    // Nothing else changes: no instruction, no other member.
    expect(input.system).toBeUndefined();
    expect(Object.keys(input).sort()).toEqual(['messages', 'modelId', 'outputConfig']);
  });

  it('strict false or absent: the same (Bedrock always holds the answer to the schema); no name or an empty description: left out', () => {
    for (const json_schema of [{ name: 'person', schema, strict: false }, { name: 'person', schema }, { name: 'person', description: '', schema, strict: null }]) {
      expect(convert(body(user, { response_format: { type: 'json_schema', json_schema } })).outputConfig).toEqual({ textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: JSON.stringify(schema), name: 'person' } } } });
    }
    expect(convert(body(user, { response_format: { type: 'json_schema', json_schema: { schema } } })).outputConfig?.textFormat?.structure?.jsonSchema).toEqual({ schema: JSON.stringify(schema) });
  });

  it('the schema is passed as given: not rewritten, so what Bedrock refuses in a schema is its 400 to report', () => {
    const open = { type: 'object', properties: { tags: { type: 'array', items: { type: 'string' }, minItems: 2 } } };
    expect(convert(body(user, { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: open } } })).outputConfig?.textFormat?.structure?.jsonSchema?.schema).toBe(JSON.stringify(open));
  });

  it('with tools, a system prompt and prompt caching: outputConfig beside them, the system and its cache point unchanged', () => {
    const input = convert(
      body([{ role: 'system', content: 'Be exact.' }, ...user], { tools: [{ type: 'function', function: { name: 'f' } }], response_format: { type: 'json_schema', json_schema: { name: 'person', schema } } }),
      { historyLength: 0, promptCache: true },
    );
    expect(input.system).toEqual([{ text: 'Be exact.' }, CP]);
    expect(input.toolConfig?.tools).toHaveLength(1);
    expect(input.outputConfig?.textFormat?.type).toBe('json_schema');
  });

  it('json_object → an instruction at the end of the system prompt, after its cache point; no outputConfig', () => {
    const plain = convert(body(user, { response_format: { type: 'json_object' } }));
    expect(plain.system).toEqual([{ text: JSON_MODE_INSTRUCTION }]);
    expect(plain.outputConfig).toBeUndefined();
    const cached = convert(body([{ role: 'system', content: 'Be exact.' }, ...user], { response_format: { type: 'json_object' } }), { historyLength: 0, promptCache: true });
    expect(cached.system).toEqual([{ text: 'Be exact.' }, CP, { text: JSON_MODE_INSTRUCTION }]);
  });

  it('text, a null format or a format without type: nothing', () => {
    for (const response_format of [{ type: 'text' }, null, {}]) {
      const input = convert(body(user, { response_format }));
      expect(Object.keys(input).sort()).toEqual(['messages', 'modelId']);
    }
  });
});

describe('tools and tool_choice', () => {
  const user: ChatMessage[] = [{ role: 'user', content: 'hi' }];
  const weather = { type: 'function', function: { name: 'get_weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };
  const noParams = { type: 'function', function: { name: 'now' } };
  const specs = [
    { toolSpec: { name: 'get_weather', description: 'Weather by city', inputSchema: { json: weather.function.parameters } } },
    { toolSpec: { name: 'now', inputSchema: { json: { type: 'object', properties: {} } } } },
  ];

  const cases: Array<[string, unknown, unknown]> = [
    ['absent → auto', undefined, { tools: specs, toolChoice: { auto: {} } }],
    ['auto', 'auto', { tools: specs, toolChoice: { auto: {} } }],
    ['required → any', 'required', { tools: specs, toolChoice: { any: {} } }],
    ['function → tool', { type: 'function', function: { name: 'now' } }, { tools: specs, toolChoice: { tool: { name: 'now' } } }],
    ['none → no toolConfig', 'none', undefined],
  ];
  for (const [name, choice, expected] of cases) {
    it(name, () => {
      expect(convert(body(user, { tools: [weather, noParams], tool_choice: choice })).toolConfig).toEqual(expected);
    });
  }

  it('none keeps the tools (without a choice) when the history has tool blocks', () => {
    const input = convert(
      body(
        [
          { role: 'user', content: 'q' },
          { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'now', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'c1', content: '12:00' },
        ],
        { tools: [weather, noParams], tool_choice: 'none' },
      ),
    );
    expect(input.toolConfig).toEqual({ tools: specs });
  });

  it('no tools and no choice → no toolConfig', () => {
    expect(convert(body(user, { tools: [] })).toolConfig).toBeUndefined();
  });

  const errors: Array<[string, Record<string, unknown>, string]> = [
    ['bad tool name', { tools: [{ type: 'function', function: { name: 'bad.name' } }] }, 'tools[0].function.name'],
    ['name too long', { tools: [{ type: 'function', function: { name: 'x'.repeat(65) } }] }, 'tools[0].function.name'],
    ['non-function tool', { tools: [{ type: 'web_search' }] }, 'tools[0].type'],
    ['parameters not an object', { tools: [{ type: 'function', function: { name: 'f', parameters: 'x' } }] }, 'tools[0].function.parameters'],
    ['tools not an array', { tools: {} }, 'tools'],
    ['required without tools', { tool_choice: 'required' }, 'tool_choice'],
    ['function choice not in tools', { tools: [weather], tool_choice: { type: 'function', function: { name: 'other' } } }, 'tool_choice'],
    ['garbage choice', { tools: [weather], tool_choice: 'sometimes' }, 'tool_choice'],
  ];
  for (const [name, extra, param] of errors) {
    it(`${name} → 400`, () => {
      const err = rejection(() => convert(body(user, extra)));
      expect([err.status, err.param]).toEqual([400, param]);
    });
  }
});

describe('prompt cache points', () => {
  const history: ChatMessage[] = [
    { role: 'system', content: 'sys' },
    { role: 'user', content: 'u1' },
    { role: 'assistant', content: 'a1' },
    { role: 'user', content: 'u2' },
  ];

  it('after the system prompt and after the last history message', () => {
    const input = convert(body(history), { historyLength: 3, promptCache: true });
    expect(input.system).toEqual([{ text: 'sys' }, CP]);
    expect(input.messages).toEqual([
      { role: 'user', content: [{ text: 'u1' }] },
      { role: 'assistant', content: [{ text: 'a1' }, CP] },
      { role: 'user', content: [{ text: 'u2' }, CP] },
    ]);
  });

  it('moves with historyLength', () => {
    const input = convert(body([...history, { role: 'assistant', content: 'a2' }, { role: 'user', content: 'u3' }]), { historyLength: 5, promptCache: true });
    expect(input.messages.map((m) => m.content)).toEqual([[{ text: 'u1' }], [{ text: 'a1' }], [{ text: 'u2' }], [{ text: 'a2' }, CP], [{ text: 'u3' }, CP]]);
  });

  it('inside a merged message: right after the history blocks, before the new turn', () => {
    const input = convert(
      body([
        { role: 'user', content: 'q' },
        { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'r' },
        { role: 'user', content: 'next' },
      ]),
      { historyLength: 3, promptCache: true },
    );
    expect(input.messages[2]).toEqual({ role: 'user', content: [{ toolResult: { toolUseId: 'c1', content: [{ text: 'r' }] } }, CP, { text: 'next' }, CP] });
  });

  it('skips a history message that was dropped as empty, landing on the last one that survived', () => {
    const input = convert(
      body([
        { role: 'user', content: 'u1' },
        { role: 'assistant', content: 'a1' },
        { role: 'user', content: '' },
        { role: 'user', content: 'u2' },
      ]),
      { historyLength: 3, promptCache: true },
    );
    expect(input.messages[1]).toEqual({ role: 'assistant', content: [{ text: 'a1' }, CP] });
    expect(input.messages[2]).toEqual({ role: 'user', content: [{ text: 'u2' }, CP] });
  });

  it('historyLength 0: the system point and one at the end of the turn, for the next turn to read', () => {
    const input = convert(body(history), { historyLength: 0, promptCache: true });
    expect(input.system).toEqual([{ text: 'sys' }, CP]);
    expect(JSON.stringify(input.messages).match(/cachePoint/g)).toHaveLength(1);
    expect(input.messages.at(-1)).toEqual({ role: 'user', content: [{ text: 'u2' }, CP] });
  });

  it('no turn point after an assistant prefill', () => {
    const input = convert(body([...history, { role: 'assistant', content: 'Sure,' }]), { historyLength: 4, promptCache: true });
    expect(input.messages.at(-1)).toEqual({ role: 'assistant', content: [{ text: 'Sure,' }] });
  });

  it('none without historyLength (stateless) or with promptCache off', () => {
    for (const options of [{ promptCache: true }, { historyLength: 3, promptCache: false }]) {
      const input = convert(body(history), options);
      expect(JSON.stringify(input)).not.toContain('cachePoint');
    }
  });
});

describe('resolveModel', () => {
  it('maps client names and refuses unknown ones (own properties only) with 404 model_not_found', () => {
    const config = { promptCache: true, models: { haiku: MODEL } };
    expect(resolveModel(config, 'haiku')).toEqual({ id: MODEL, promptCache: true });
    const err = rejection(() => resolveModel(config, 'toString'));
    expect([err.status, err.code, err.param]).toEqual([404, 'model_not_found', 'model']);
  });

  it('a model entry may override promptCache', () => {
    const config = { promptCache: true, models: { llama: { id: 'meta.llama3-70b-instruct-v1:0', promptCache: false }, nova: { id: 'amazon.nova-lite-v1:0' } } };
    expect(resolveModel(config, 'llama')).toEqual({ id: 'meta.llama3-70b-instruct-v1:0', promptCache: false });
    expect(resolveModel({ ...config, promptCache: false }, 'nova')).toEqual({ id: 'amazon.nova-lite-v1:0', promptCache: false });
  });
});
