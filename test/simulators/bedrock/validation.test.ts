// Every Converse rule the simulator enforces surfaces in the real SDK as a ValidationException,
// on Converse and on ConverseStream (which fails before the stream starts).
import { ConverseCommand, ConverseStreamCommand, ValidationException, type ConverseCommandInput, type ToolUseBlock } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BedrockSimulator } from '../../../src/simulators/bedrock/index.js';
import { assistant, client, SONNET, startSim, user } from './helpers.js';

let sim: BedrockSimulator;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(() => sim.close());

const weatherTool = {
  toolSpec: { name: 'get_weather', description: 'Weather for a city', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
};
const toolConfig = { tools: [weatherTool] };
const toolUse = (toolUseId: string, input: ToolUseBlock['input'] = { city: 'Paris' }, name = 'get_weather') => ({ toolUse: { toolUseId, name, input } });
const toolResult = (toolUseId: string) => ({ toolResult: { toolUseId, content: [{ json: { tempC: 21 } }] } });

type Input = Omit<ConverseCommandInput, 'modelId'>;
const cases: Array<[string, Input, string]> = [
  ['no messages', { messages: [] }, 'A conversation must start with a user message. Try again with a conversation that starts with a user message.'],
  ['first message from the assistant', { messages: [assistant('Hi'), user('Hello')] }, 'A conversation must start with a user message. Try again with a conversation that starts with a user message.'],
  [
    'two user messages in a row',
    { messages: [user('Hello'), user('Again')] },
    'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.',
  ],
  ['an empty text block', { messages: [user('')] }, 'The text field in the ContentBlock object at messages.0.content.0 is blank. Add text to the text field, and try again.'],
  ['a blank text block', { messages: [user('Hi'), assistant('Yes'), { role: 'user', content: [{ text: 'ok' }, { text: ' \n ' }] }] }, 'The text field in the ContentBlock object at messages.2.content.1 is blank. Add text to the text field, and try again.'],
  ['a message without content', { messages: [{ role: 'user', content: [] }] }, 'The content field in the Message object at messages.0 is empty. Add a ContentBlock object to the content field and try again.'],
  ['a blank system block', { system: [{ text: '  ' }], messages: [user('Hi')] }, 'The text field in the SystemContentBlock object at system.0 is blank. Add text to the text field, and try again.'],
  [
    'toolUse without a toolConfig',
    { messages: [user('Hi'), { role: 'assistant', content: [toolUse('tooluse_1')] }, { role: 'user', content: [toolResult('tooluse_1')] }] },
    'The toolConfig field must be defined when using toolUse and toolResult content blocks.',
  ],
  [
    'a tool name with a space',
    { messages: [user('Hi')], toolConfig: { tools: [{ toolSpec: { ...weatherTool.toolSpec, name: 'get weather' } }] } },
    "1 validation error detected: Value 'get weather' at 'toolConfig.tools.0.member.toolSpec.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]{1,64}",
  ],
  [
    'a tool name of 65 characters',
    { messages: [user('Hi')], toolConfig: { tools: [{ toolSpec: { ...weatherTool.toolSpec, name: 'x'.repeat(65) } }] } },
    `1 validation error detected: Value '${'x'.repeat(65)}' at 'toolConfig.tools.0.member.toolSpec.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]{1,64}`,
  ],
  [
    'a toolUseId with a slash',
    { toolConfig, messages: [user('Hi'), { role: 'assistant', content: [toolUse('tool/1')] }, { role: 'user', content: [toolResult('tool/1')] }] },
    "1 validation error detected: Value 'tool/1' at 'messages.1.member.content.0.member.toolUse.toolUseId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.:-]{1,64}",
  ],
  [
    'a toolUse input that is not an object',
    { toolConfig, messages: [user('Hi'), { role: 'assistant', content: [toolUse('tooluse_1', ['Paris'])] }, { role: 'user', content: [toolResult('tooluse_1')] }] },
    'The format of the value at messages.1.content.0.toolUse.input is invalid. Provide a json object for the field and try again.',
  ],
  [
    'a toolResult answering no toolUse',
    { toolConfig, messages: [user('Hi'), { role: 'assistant', content: [toolUse('tooluse_1')] }, { role: 'user', content: [toolResult('tooluse_1'), toolResult('tooluse_2')] }] },
    'messages.2.content.1: unexpected toolUseId tooluse_2 found in toolResult blocks. Each toolResult block must have a corresponding toolUse block in the previous message.',
  ],
  [
    'a toolResult for a toolUse two messages back',
    {
      toolConfig,
      messages: [user('Hi'), { role: 'assistant', content: [toolUse('tooluse_1')] }, { role: 'user', content: [toolResult('tooluse_1')] }, assistant('Done'), { role: 'user', content: [toolResult('tooluse_1')] }],
    },
    'messages.4.content.0: unexpected toolUseId tooluse_1 found in toolResult blocks. Each toolResult block must have a corresponding toolUse block in the previous message.',
  ],
  [
    'a toolUse left unanswered',
    { toolConfig, messages: [user('Hi'), { role: 'assistant', content: [toolUse('tooluse_1'), toolUse('tooluse_2')] }, { role: 'user', content: [toolResult('tooluse_1')] }] },
    'Expected toolResult blocks at messages.2.content for the following Ids: tooluse_2',
  ],
  [
    'a toolResult whose json is not an object',
    { toolConfig, messages: [user('Hi'), { role: 'assistant', content: [toolUse('tooluse_1')] }, { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_1', content: [{ json: [1, 2] }] } }] }] },
    'The format of the value at messages.2.content.0.toolResult.content.0.json is invalid. Provide a json object for the field and try again.',
  ],
  [
    'an empty error toolResult',
    { toolConfig, messages: [user('Hi'), { role: 'assistant', content: [toolUse('tooluse_1')] }, { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_1', content: [], status: 'error' } }] }] },
    'The content field at messages.2.content.0.toolResult cannot be empty when status value is error.',
  ],
  [
    'a final assistant prefill ending in whitespace',
    { messages: [user('Hi'), assistant('Sure, ')] },
    'The model returned the following errors: messages: final assistant content cannot end with trailing whitespace',
  ],
  ['maxTokens of 0', { messages: [user('Hi')], inferenceConfig: { maxTokens: 0 } }, "1 validation error detected: Value '0' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1"],
  ['temperature 1.5 (fine for OpenAI)', { messages: [user('Hi')], inferenceConfig: { temperature: 1.5 } }, "1 validation error detected: Value '1.5' at 'inferenceConfig.temperature' failed to satisfy constraint: Member must have value less than or equal to 1"],
  ['negative topP', { messages: [user('Hi')], inferenceConfig: { topP: -0.1 } }, "1 validation error detected: Value '-0.1' at 'inferenceConfig.topP' failed to satisfy constraint: Member must have value greater than or equal to 0"],
  ['negative maxTokens', { messages: [user('Hi')], inferenceConfig: { maxTokens: -5 } }, "1 validation error detected: Value '-5' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1"],
  [
    'a toolChoice naming an undeclared tool',
    { messages: [user('Hi')], toolConfig: { ...toolConfig, toolChoice: { tool: { name: 'get_time' } } } },
    'The tool get_time named in toolConfig.toolChoice is not defined in toolConfig.tools.',
  ],
  [
    'a thinking budget under 1024',
    { messages: [user('Hi')], additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 512 } } },
    'The model returned the following errors: thinking.enabled.budget_tokens: Input should be greater than or equal to 1024',
  ],
  [
    'maxTokens not above the thinking budget',
    { messages: [user('Hi')], inferenceConfig: { maxTokens: 2048 }, additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 2048 } } },
    'The model returned the following errors: `max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size',
  ],
  [
    'a temperature other than 1 with thinking',
    { messages: [user('Hi')], inferenceConfig: { temperature: 0.2 }, additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } } },
    'The model returned the following errors: `temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#important-considerations-when-using-extended-thinking',
  ],
  [
    'a forced tool with thinking',
    { messages: [user('Hi')], toolConfig: { ...toolConfig, toolChoice: { any: {} } }, additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } } },
    'The model returned the following errors: Thinking may not be enabled when tool_choice forces tool use.',
  ],
  [
    'five cache points',
    { system: [{ text: 'a' }, { cachePoint: { type: 'default' } }, { text: 'b' }, { cachePoint: { type: 'default' } }, { text: 'c' }, { cachePoint: { type: 'default' } }, { text: 'd' }, { cachePoint: { type: 'default' } }], messages: [{ role: 'user', content: [{ text: 'Hi' }, { cachePoint: { type: 'default' } }] }] },
    'A maximum of 4 blocks with cache_control may be provided. Found 5.',
  ],
];

describe('Converse validation', () => {
  it.each(cases)('rejects %s', async (_name, input, message) => {
    const bedrock = client(sim, 'http1');
    const err = await bedrock.send(new ConverseCommand({ modelId: SONNET, ...input } as ConverseCommandInput)).catch((e: unknown) => e);
    bedrock.destroy();
    expect(err).toBeInstanceOf(ValidationException);
    expect(err).toMatchObject({ name: 'ValidationException', message, $metadata: { httpStatusCode: 400 } });
  });

  it('rejects a content block with two members', async () => {
    const bedrock = client(sim, 'http2');
    const input = { modelId: SONNET, messages: [{ role: 'user', content: [{ text: 'Hi', cachePoint: { type: 'default' } }] }] } as unknown as ConverseCommandInput;
    const err = await bedrock.send(new ConverseCommand(input)).catch((e: unknown) => e);
    bedrock.destroy();
    expect(err).toBeInstanceOf(ValidationException);
    expect((err as Error).message).toBe('The ContentBlock object at messages.0.content.0 must set exactly one member, but 2 were set (text, cachePoint).');
  });

  it('applies the same rules to ConverseStream before the stream starts', async () => {
    const bedrock = client(sim, 'http2');
    const err = await bedrock.send(new ConverseStreamCommand({ modelId: SONNET, messages: [assistant('Hi')] })).catch((e: unknown) => e);
    bedrock.destroy();
    expect(err).toBeInstanceOf(ValidationException);
    expect(err).toMatchObject({ $metadata: { httpStatusCode: 400 } });
  });


  it('accepts blank text and an empty list inside a successful toolResult, as live Bedrock does', async () => {
    const bedrock = client(sim, 'http1');
    const res = await bedrock.send(
      new ConverseCommand({
        modelId: SONNET,
        toolConfig,
        messages: [user('Hi'), { role: 'assistant', content: [toolUse('tooluse_1'), toolUse('tooluse_2')] }, { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_1', content: [{ text: '  ' }] } }, { toolResult: { toolUseId: 'tooluse_2', content: [] } }] }],
      }),
    );
    bedrock.destroy();
    expect(res.stopReason).toBe('end_turn');
  });

  it('accepts a final assistant prefill and answers from the last user message', async () => {
    const bedrock = client(sim, 'http2');
    const res = await bedrock.send(new ConverseCommand({ modelId: SONNET, messages: [user('Hello there'), assistant('Sure,')] }));
    bedrock.destroy();
    expect(res.output?.message?.content?.[0]?.text).toContain('You said: "Hello there"');
  });
});
