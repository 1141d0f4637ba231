// The request rules Bedrock enforces on Converse / ConverseStream, each answered with a 400
// ValidationException worded like AWS, so a gateway's translator is tested against the same
// refusals it would meet in production.
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ContentBlock.html
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ToolSpecification.html
import { constraintViolation, validation } from './errors.js';
import type { ConverseRequest, JsonObject } from './types.js';

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const TOOL_USE_ID = /^[a-zA-Z0-9_.:-]{1,64}$/;
const CONTENT_MEMBERS = ['text', 'image', 'document', 'video', 'toolUse', 'toolResult', 'cachePoint', 'reasoningContent', 'guardContent'];
const SYSTEM_MEMBERS = ['text', 'cachePoint', 'guardContent'];

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Union members that are set (the SDK omits unset ones; null counts as unset). */
const setMembers = (block: JsonObject) => Object.keys(block).filter((key) => block[key] !== undefined && block[key] !== null);

/** A union (ContentBlock, Tool, ToolChoice, …) must set exactly one known member. */
function checkUnion(block: unknown, shape: string, path: string, known: string[]): string {
  if (!isObject(block)) throw constraintViolation(undefined, path, 'Member must not be null');
  const members = setMembers(block);
  if (members.length !== 1) {
    throw validation(`The ${shape} object at ${path} must set exactly one member, but ${members.length} were set${members.length ? ` (${members.join(', ')})` : ''}.`);
  }
  const member = members[0]!;
  if (!known.includes(member)) throw validation(`The ${shape} object at ${path} has an unknown member: ${member}.`);
  return member;
}

function checkCachePoint(value: unknown, path: string): void {
  if (!isObject(value) || value['type'] !== 'default') {
    throw constraintViolation(isObject(value) ? String(value['type']) : undefined, `${path}.cachePoint.type`, 'Member must satisfy enum value set: [default]');
  }
}

function checkText(value: unknown, where: string): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw validation(`The text field in the ${where} is blank. Add text to the text field, and try again.`);
  }
}

/** Anthropic's extended-thinking rules, reported the way Bedrock relays the model's refusal. */
function checkThinking(body: JsonObject): void {
  const fields = body['additionalModelRequestFields'];
  const thinking = isObject(fields) ? fields['thinking'] : undefined;
  if (!isObject(thinking) || thinking['type'] !== 'enabled') return;
  const budget = thinking['budget_tokens'];
  if (!Number.isInteger(budget) || (budget as number) < 1024) {
    throw validation('The model returned the following errors: thinking.enabled.budget_tokens: Input should be greater than or equal to 1024');
  }
  const inference = isObject(body['inferenceConfig']) ? body['inferenceConfig'] : {};
  const maxTokens = inference['maxTokens'];
  if (typeof maxTokens === 'number' && maxTokens <= (budget as number)) {
    throw validation('The model returned the following errors: `max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size');
  }
  const temperature = inference['temperature'];
  if (temperature !== undefined && temperature !== null && temperature !== 1) {
    throw validation('The model returned the following errors: `temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#important-considerations-when-using-extended-thinking');
  }
  const toolConfig = body['toolConfig'];
  const choice = isObject(toolConfig) ? toolConfig['toolChoice'] : undefined;
  if (isObject(choice) && ('any' in choice || 'tool' in choice)) {
    throw validation('The model returned the following errors: Thinking may not be enabled when tool_choice forces tool use.');
  }
}

/** Throws a ValidationException for the first rule the body breaks; returns it typed otherwise. */
export function validateConverseRequest(body: unknown): ConverseRequest {
  if (!isObject(body)) throw validation('Malformed input request, please reformat your input and try again.');
  const { messages, system, inferenceConfig, toolConfig } = body;
  if (messages === undefined || messages === null) throw constraintViolation(undefined, 'messages', 'Member must not be null');
  if (!Array.isArray(messages)) throw validation('Malformed input request: messages must be a list, please reformat your input and try again.');

  // toolConfig first: the message rules below refer to the tools it declares.
  let toolNames: string[] | undefined;
  if (toolConfig !== undefined && toolConfig !== null) {
    if (!isObject(toolConfig) || !Array.isArray(toolConfig['tools'])) throw constraintViolation(undefined, 'toolConfig.tools', 'Member must not be null');
    const tools = toolConfig['tools'] as unknown[];
    if (tools.length === 0) throw constraintViolation('[]', 'toolConfig.tools', 'Member must have length greater than or equal to 1');
    toolNames = [];
    tools.forEach((tool, i) => {
      const member = checkUnion(tool, 'Tool', `toolConfig.tools.${i}`, ['toolSpec', 'cachePoint']);
      if (member === 'cachePoint') return checkCachePoint((tool as JsonObject)['cachePoint'], `toolConfig.tools.${i}`);
      const spec = (tool as JsonObject)['toolSpec'];
      const name = isObject(spec) ? spec['name'] : undefined;
      if (typeof name !== 'string' || !TOOL_NAME.test(name)) {
        throw constraintViolation(String(name), `toolConfig.tools.${i}.member.toolSpec.name`, 'Member must satisfy regular expression pattern: [a-zA-Z0-9_-]{1,64}');
      }
      const schema = (spec as JsonObject)['inputSchema'];
      if (!isObject(schema) || !isObject(schema['json'])) {
        throw validation(`The inputSchema of tool ${name} at toolConfig.tools.${i}.toolSpec must be a JSON schema object.`);
      }
      toolNames!.push(name);
    });
    const choice = toolConfig['toolChoice'];
    if (choice !== undefined && choice !== null) {
      const member = checkUnion(choice, 'ToolChoice', 'toolConfig.toolChoice', ['auto', 'any', 'tool']);
      if (member === 'tool') {
        const name = (choice as { tool?: { name?: unknown } }).tool?.name;
        if (typeof name !== 'string' || !toolNames.includes(name)) {
          throw validation(`The tool ${String(name)} named in toolConfig.toolChoice is not defined in toolConfig.tools.`);
        }
      }
    }
  }

  if (messages.length === 0 || !isObject(messages[0]) || messages[0]['role'] !== 'user') {
    if (messages.length > 0 && isObject(messages[0]) && messages[0]['role'] !== 'assistant') {
      throw constraintViolation(String(messages[0]['role']), 'messages.0.member.role', 'Member must satisfy enum value set: [user, assistant]');
    }
    throw validation('A conversation must start with a user message. Try again with a conversation that starts with a user message.');
  }

  let previousToolUseIds: string[] = [];
  messages.forEach((message: unknown, m) => {
    if (!isObject(message)) throw constraintViolation(undefined, `messages.${m}`, 'Member must not be null');
    const role = message['role'];
    if (role !== 'user' && role !== 'assistant') {
      throw constraintViolation(String(role), `messages.${m}.member.role`, 'Member must satisfy enum value set: [user, assistant]');
    }
    if (m > 0 && (messages[m - 1] as JsonObject)['role'] === role) {
      throw validation('A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.');
    }
    const content = message['content'];
    if (!Array.isArray(content) || content.length === 0) {
      throw validation(`The content field in the Message object at messages.${m} is empty. Add a ContentBlock object to the content field and try again.`);
    }
    const toolUseIds: string[] = [];
    const answeredIds: string[] = [];
    content.forEach((block: unknown, b) => {
      const at = `messages.${m}.content.${b}`;
      const member = checkUnion(block, 'ContentBlock', at, CONTENT_MEMBERS);
      const value = (block as JsonObject)[member];
      switch (member) {
        case 'text':
          return checkText(value, `ContentBlock object at ${at}`);
        case 'cachePoint':
          return checkCachePoint(value, at);
        case 'toolUse':
        case 'toolResult': {
          if (!toolNames) throw validation('The toolConfig field must be defined when using toolUse and toolResult content blocks.');
          if (!isObject(value)) throw constraintViolation(undefined, `${at}.${member}`, 'Member must not be null');
          const id = value['toolUseId'];
          if (typeof id !== 'string' || !TOOL_USE_ID.test(id)) {
            throw constraintViolation(String(id), `messages.${m}.member.content.${b}.member.${member}.toolUseId`, 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.:-]{1,64}');
          }
          if (member === 'toolUse') {
            if (role !== 'assistant') throw validation(`${at}: toolUse blocks are only allowed in assistant messages.`);
            const name = value['name'];
            if (typeof name !== 'string' || !TOOL_NAME.test(name)) {
              throw constraintViolation(String(name), `messages.${m}.member.content.${b}.member.toolUse.name`, 'Member must satisfy regular expression pattern: [a-zA-Z0-9_-]{1,64}');
            }
            if (!isObject(value['input'])) {
              throw validation(`The format of the value at ${at}.toolUse.input is invalid. Provide a json object for the field and try again.`);
            }
            toolUseIds.push(id);
          } else {
            if (role !== 'user') throw validation(`${at}: toolResult blocks are only allowed in user messages.`);
            if (!previousToolUseIds.includes(id)) {
              throw validation(`${at}: unexpected toolUseId ${id} found in toolResult blocks. Each toolResult block must have a corresponding toolUse block in the previous message.`);
            }
            const parts = value['content'];
            if (!Array.isArray(parts)) throw constraintViolation(undefined, `${at}.toolResult.content`, 'Member must not be null');
            // Observed on live Bedrock: blank text and even an empty list are accepted in a toolResult,
            // except that an error result must say something.
            if (parts.length === 0 && value['status'] === 'error') {
              throw validation(`The content field at ${at}.toolResult cannot be empty when status value is error.`);
            }
            parts.forEach((part: unknown, p) => {
              const kind = checkUnion(part, 'ToolResultContentBlock', `${at}.toolResult.content.${p}`, ['text', 'json', 'image', 'document', 'video']);
              if (kind === 'json' && !isObject((part as JsonObject)['json'])) {
                throw validation(`The format of the value at ${at}.toolResult.content.${p}.json is invalid. Provide a json object for the field and try again.`);
              }
            });
            answeredIds.push(id);
          }
          return;
        }
        default:
          return;
      }
    });
    // Claude on Bedrock also insists that every toolUse is answered in the very next user message.
    if (role === 'user' && previousToolUseIds.length > 0) {
      const missing = previousToolUseIds.filter((id) => !answeredIds.includes(id));
      if (missing.length > 0) {
        throw validation(`Expected toolResult blocks at messages.${m}.content for the following Ids: ${missing.join(', ')}`);
      }
    }
    previousToolUseIds = role === 'assistant' ? toolUseIds : [];
  });

  // Claude continues a final assistant message (prefill), but refuses one ending in whitespace.
  const last = messages[messages.length - 1] as JsonObject;
  const lastBlock = last['role'] === 'assistant' ? (last['content'] as JsonObject[]).at(-1) : undefined;
  if (typeof lastBlock?.['text'] === 'string' && /\s$/.test(lastBlock['text'])) {
    throw validation('The model returned the following errors: messages: final assistant content cannot end with trailing whitespace');
  }

  if (system !== undefined && system !== null) {
    if (!Array.isArray(system)) throw validation('Malformed input request: system must be a list, please reformat your input and try again.');
    system.forEach((block: unknown, s) => {
      const member = checkUnion(block, 'SystemContentBlock', `system.${s}`, SYSTEM_MEMBERS);
      if (member === 'text') checkText((block as JsonObject)['text'], `SystemContentBlock object at system.${s}`);
      if (member === 'cachePoint') checkCachePoint((block as JsonObject)['cachePoint'], `system.${s}`);
    });
  }

  if (inferenceConfig !== undefined && inferenceConfig !== null) {
    if (!isObject(inferenceConfig)) throw validation('Malformed input request: inferenceConfig must be an object.');
    const maxTokens = inferenceConfig['maxTokens'];
    if (maxTokens !== undefined && maxTokens !== null && (!Number.isInteger(maxTokens) || (maxTokens as number) < 1)) {
      throw constraintViolation(String(maxTokens), 'inferenceConfig.maxTokens', 'Member must have value greater than or equal to 1');
    }
    // API-shape limits, for every model: an OpenAI temperature of 1.5 is a 400 here, not a clamp.
    for (const field of ['temperature', 'topP'] as const) {
      const value = inferenceConfig[field];
      if (value === undefined || value === null) continue;
      if (typeof value !== 'number' || value < 0) {
        throw constraintViolation(String(value), `inferenceConfig.${field}`, 'Member must have value greater than or equal to 0');
      }
      if (value > 1) throw constraintViolation(String(value), `inferenceConfig.${field}`, 'Member must have value less than or equal to 1');
    }
    const stops = inferenceConfig['stopSequences'];
    if (stops !== undefined && stops !== null && (!Array.isArray(stops) || stops.some((s) => typeof s !== 'string' || s === ''))) {
      throw validation('The stopSequences field in inferenceConfig must be a list of non-empty strings.');
    }
  }

  checkOutputConfig(body['outputConfig']);
  checkThinking(body);
  return body as unknown as ConverseRequest;
}

const SCHEMA_PATH = 'outputConfig.textFormat.structure.jsonSchema.schema';

/** Structured output: `textFormat` of type json_schema with one `jsonSchema` member whose `schema`
 * is a string holding a JSON Schema object, every object of which is closed
 * (`additionalProperties: false`), as Claude's structured outputs require.
 * https://docs.aws.amazon.com/bedrock/latest/userguide/structured-output.html */
function checkOutputConfig(config: unknown): void {
  if (config === undefined || config === null) return;
  if (!isObject(config)) throw validation('Malformed input request: outputConfig must be an object, please reformat your input and try again.');
  const format = config['textFormat'];
  if (format === undefined || format === null) return;
  if (!isObject(format)) throw validation('Malformed input request: outputConfig.textFormat must be an object, please reformat your input and try again.');
  const type = format['type'];
  if (type === undefined || type === null) throw constraintViolation(undefined, 'outputConfig.textFormat.type', 'Member must not be null');
  if (type !== 'json_schema') throw constraintViolation(String(type), 'outputConfig.textFormat.type', 'Member must satisfy enum value set: [json_schema]');
  const structure = format['structure'];
  if (structure === undefined || structure === null) throw constraintViolation(undefined, 'outputConfig.textFormat.structure', 'Member must not be null');
  checkUnion(structure, 'OutputFormatStructure', 'outputConfig.textFormat.structure', ['jsonSchema']);
  const definition = (structure as JsonObject)['jsonSchema'];
  if (!isObject(definition)) throw constraintViolation(undefined, 'outputConfig.textFormat.structure.jsonSchema', 'Member must not be null');
  for (const field of ['name', 'description'] as const) {
    const value = definition[field];
    if (value !== undefined && value !== null && typeof value !== 'string') {
      throw validation(`Malformed input request: outputConfig.textFormat.structure.jsonSchema.${field} must be a string, please reformat your input and try again.`);
    }
  }
  const text = definition['schema'];
  if (text === undefined || text === null) throw constraintViolation(undefined, SCHEMA_PATH, 'Member must not be null');
  // The member is a string holding JSON, not a JSON document (a tool's inputSchema is the other kind).
  if (typeof text !== 'string') throw validation(`Malformed input request: ${SCHEMA_PATH} must be a string containing a JSON schema, please reformat your input and try again.`);
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch {
    throw validation(`The JSON schema at ${SCHEMA_PATH} is not valid JSON. Provide a valid JSON schema and try again.`);
  }
  if (!isObject(schema)) throw validation(`The JSON schema at ${SCHEMA_PATH} must be a JSON object. Provide a valid JSON schema and try again.`);
  checkClosedObjects(schema, '#', 0);
}

/** Every `type: object` subschema must say `additionalProperties: false` (Claude's rule, relayed by Bedrock). */
function checkClosedObjects(schema: unknown, at: string, depth: number): void {
  if (!isObject(schema) || depth > 64) return;
  const type = schema['type'];
  const isObjectType = type === 'object' || (Array.isArray(type) && type.includes('object'));
  if (isObjectType && schema['additionalProperties'] !== false) {
    throw validation(`The JSON schema at ${SCHEMA_PATH} is not supported: an object schema must set 'additionalProperties' to false (at ${at}).`);
  }
  const children: Array<[string, unknown]> = [];
  for (const key of ['properties', '$defs', 'definitions'] as const) {
    const map = schema[key];
    if (isObject(map)) for (const [name, child] of Object.entries(map)) children.push([`${at}/${key}/${name}`, child]);
  }
  for (const key of ['items', 'additionalProperties', 'not'] as const) children.push([`${at}/${key}`, schema[key]]);
  for (const key of ['anyOf', 'oneOf', 'allOf', 'prefixItems'] as const) {
    const list = schema[key];
    if (Array.isArray(list)) list.forEach((child, i) => children.push([`${at}/${key}/${i}`, child]));
  }
  for (const [path, child] of children) checkClosedObjects(child, path, depth + 1);
}
