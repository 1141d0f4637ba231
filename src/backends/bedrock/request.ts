// Request step: an OpenAI chat body → a Converse / ConverseStream input.
// Message content lives in messages.ts; this file handles the top-level fields, tools and the
// prompt-cache points. https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
import type {
  ConverseCommandInput,
  InferenceConfiguration,
  JsonSchemaDefinition,
  OutputConfig,
  SystemContentBlock,
  Tool,
  ToolChoice,
  ToolConfiguration,
  ToolInputSchema,
} from '@aws-sdk/client-bedrock-runtime';
import { GatewayError, invalidRequest } from '../../errors.js';
import type { ChatBody } from '../types.js';
import type { BedrockConfig } from './config.js';
import { isRecord, TOOL_NAME, translateMessages, type TranslatedMessages } from './messages.js';

/** The part of a Converse input the gateway fills; assignable to both ConverseCommandInput and
 * ConverseStreamCommandInput. */
export type ConverseInput = Required<Pick<ConverseCommandInput, 'modelId' | 'messages'>> &
  Pick<ConverseCommandInput, 'system' | 'inferenceConfig' | 'toolConfig' | 'outputConfig'>;

export interface ConverseRequestOptions {
  body: ChatBody;
  /** The Bedrock model id (already resolved from the client's model name). */
  modelId: string;
  /** The first `historyLength` messages are stored history (stateful path). */
  historyLength?: number | undefined;
  /** Add cache points after the system prompt and after the stored history. */
  promptCache: boolean;
}

type JsonDocument = NonNullable<ToolInputSchema.JsonMember['json']>;

/** A fresh block each time: inputs are built per request and may be changed by whoever holds them. */
const cachePoint = () => ({ cachePoint: { type: 'default' as const } });

export interface ResolvedModel {
  /** The Bedrock model id or inference profile. */
  id: string;
  promptCache: boolean;
}

/** Client model name → Bedrock model and its prompt-cache setting; an unknown name is the
 * client's 404. */
export function resolveModel(config: Pick<BedrockConfig, 'models' | 'promptCache'>, model: string): ResolvedModel {
  const entry = Object.hasOwn(config.models, model) ? config.models[model] : undefined;
  if (entry === undefined) {
    throw new GatewayError({ status: 404, message: `The model \`${model}\` does not exist or you do not have access to it.`, param: 'model', code: 'model_not_found' });
  }
  if (typeof entry === 'string') return { id: entry, promptCache: config.promptCache };
  return { id: entry.id, promptCache: entry.promptCache ?? config.promptCache };
}

export function toConverseInput(options: ConverseRequestOptions): ConverseInput {
  checkBody(options.body);
  return completeInput(translateMessages(options.body.messages), options);
}

/** The checks on the body that come before any message is translated. */
export function checkBody(body: ChatBody): void {
  rejectUnsupported(body);
  if (!Array.isArray(body.messages)) throw invalidRequest('`messages` must be an array of messages.', 'messages');
}

/** The Converse input around translated (and finished) messages: cache points, inference and tool
 * config. */
export function completeInput(translated: TranslatedMessages, options: ConverseRequestOptions): ConverseInput {
  const { body } = options;
  const input: ConverseInput = { modelId: options.modelId, messages: translated.messages };

  const format = toResponseFormat(body);
  const cache = options.promptCache && options.historyLength !== undefined;
  if (translated.system.length > 0) {
    input.system = cache ? [...translated.system, cachePoint()] : translated.system;
  }
  // After the system cache point: turning JSON mode on or off leaves the cached system prompt valid.
  if (format?.instruction) input.system = [...(input.system ?? []), format.instruction];
  if (cache) {
    addHistoryCachePoint(translated, options.historyLength ?? 0);
    addTurnCachePoint(translated);
  }

  const inferenceConfig = toInferenceConfig(body);
  if (inferenceConfig) input.inferenceConfig = inferenceConfig;

  const toolConfig = toToolConfig(body, translated);
  if (toolConfig) input.toolConfig = toolConfig;
  if (format?.outputConfig) input.outputConfig = format.outputConfig;
  return input;
}

/** Fields that change the answer's shape and that Converse cannot honour: refuse them rather than
 * return something the client did not ask for. Everything else Converse lacks is ignored. */
function rejectUnsupported(body: ChatBody): void {
  const unsupported = (param: string, message: string) =>
    new GatewayError({ status: 400, message, param, code: 'unsupported_parameter' });
  if (body.n !== undefined && body.n !== null && body.n !== 1) throw unsupported('n', 'Only `n: 1` is supported by this model.');
  if (body.logprobs === true) throw unsupported('logprobs', '`logprobs` is not supported by this model.');
  if (body.top_logprobs !== undefined && body.top_logprobs !== null) throw unsupported('top_logprobs', '`top_logprobs` is not supported by this model.');
  if (Array.isArray(body.modalities) && body.modalities.includes('audio')) throw unsupported('modalities', 'Audio output is not supported by this model.');
  // `response_format` is checked where it is translated (completeInput), once.
}

/** What `response_format` becomes: Converse's structured output, or (JSON mode) an instruction. */
interface TranslatedFormat {
  outputConfig?: OutputConfig;
  instruction?: SystemContentBlock;
}

/** JSON mode has no Converse equivalent: Bedrock's structured output takes a schema, and its schemas
 * must close every object (`additionalProperties: false`), so "any JSON object" cannot be written as
 * one. The model is told instead, as OpenAI itself requires the client to do; best effort, not
 * enforced. https://docs.aws.amazon.com/bedrock/latest/userguide/structured-output.html */
export const JSON_MODE_INSTRUCTION =
  'Respond with a single valid JSON object and nothing else: no prose before or after it, no Markdown code fences.';

/** `response_format` → Converse `outputConfig.textFormat` (json_schema) or a system instruction
 * (json_object); undefined for text or none. Throws the 400 for a format it cannot honour.
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_OutputConfig.html */
function toResponseFormat(body: ChatBody): TranslatedFormat | undefined {
  const format = body.response_format;
  if (format === undefined || format === null) return undefined;
  if (!isRecord(format)) throw invalidRequest('`response_format` must be an object.', 'response_format');
  const type = format.type;
  if (type === undefined || type === 'text') return undefined;
  if (type === 'json_object') return { instruction: { text: JSON_MODE_INSTRUCTION } };
  if (type !== 'json_schema') {
    throw new GatewayError({ status: 400, message: `\`response_format\` of type \`${String(type)}\` is not supported by this model.`, param: 'response_format', code: 'unsupported_parameter' });
  }
  const spec = format.json_schema;
  if (!isRecord(spec)) throw invalidRequest('`response_format.json_schema` is required when `type` is `json_schema`.', 'response_format.json_schema');
  const { schema, name, description } = spec;
  if (schema === undefined || schema === null) {
    // OpenAI accepts a schema-less json_schema format; Bedrock's structured output needs the schema.
    throw new GatewayError({ status: 400, message: '`response_format.json_schema.schema` is required by this model.', param: 'response_format', code: 'unsupported_parameter' });
  }
  if (!isRecord(schema)) throw invalidRequest('`response_format.json_schema.schema` must be a JSON Schema object.', 'response_format.json_schema.schema');
  if (name !== undefined && name !== null && typeof name !== 'string') throw invalidRequest('`response_format.json_schema.name` must be a string.', 'response_format.json_schema.name');
  if (description !== undefined && description !== null && typeof description !== 'string') {
    throw invalidRequest('`response_format.json_schema.description` must be a string.', 'response_format.json_schema.description');
  }
  // The SDK's member order (schema, name, description): body.ts writes what the SDK would.
  const jsonSchema: JsonSchemaDefinition = { schema: JSON.stringify(schema) };
  if (typeof name === 'string' && name !== '') jsonSchema.name = name;
  if (typeof description === 'string' && description !== '') jsonSchema.description = description;
  // `strict` needs no field: Bedrock always constrains decoding to the schema, which is what
  // `strict: true` asks for and more than `strict: false` promises.
  return { outputConfig: { textFormat: { type: 'json_schema', structure: { jsonSchema } } } };
}

/** Put a cache point right after the last block that came from the stored history, inside the
 * merged message that holds it, so the cached prefix is exactly the history. */
function addHistoryCachePoint(translated: TranslatedMessages, historyLength: number): void {
  let last: { message: number; end: number } | undefined;
  for (const span of translated.spans) {
    if (span.original < historyLength) last = span;
  }
  if (!last) return;
  const content = translated.messages[last.message]?.content;
  content?.splice(last.end, 0, cachePoint());
  // Spans after the insertion point in the same message shift by one; none of them is used again.
}

/** A second point at the end of this turn's prompt: the next turn starts with all of it, so from
 * the second turn on the whole previous prompt (history and the last user message) is a cache read,
 * not only the stored history. With the system and history points that makes three, within
 * Bedrock's four. Never after an assistant prefill, which must stay the last block.
 * https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html */
function addTurnCachePoint(translated: TranslatedMessages): void {
  const last = translated.messages.at(-1);
  const content = last?.content;
  if (last?.role !== 'user' || !content?.length || 'cachePoint' in (content.at(-1) as object)) return;
  content.push(cachePoint());
}

function toInferenceConfig(body: ChatBody): InferenceConfiguration | undefined {
  const config: InferenceConfiguration = {};
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) {
    const param = body.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
    if (!Number.isInteger(maxTokens) || (maxTokens as number) < 1) throw invalidRequest(`\`${param}\` must be a positive integer.`, param);
    config.maxTokens = maxTokens as number;
  }
  if (body.temperature !== undefined && body.temperature !== null) config.temperature = number(body.temperature, 'temperature');
  if (body.top_p !== undefined && body.top_p !== null) config.topP = number(body.top_p, 'top_p');
  const stop = body.stop;
  if (typeof stop === 'string') {
    config.stopSequences = [stop];
  } else if (Array.isArray(stop)) {
    if (!stop.every((s) => typeof s === 'string')) throw invalidRequest('`stop` must be a string or a list of strings.', 'stop');
    if (stop.length > 0) config.stopSequences = stop as string[];
  } else if (stop !== undefined && stop !== null) {
    throw invalidRequest('`stop` must be a string or a list of strings.', 'stop');
  }
  return Object.keys(config).length > 0 ? config : undefined;
}

function number(value: unknown, param: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidRequest(`\`${param}\` must be a number.`, param);
  return value;
}

function toToolConfig(body: ChatBody, translated: TranslatedMessages): ToolConfiguration | undefined {
  const tools = toTools(body.tools);
  const choice = body.tool_choice;
  let toolChoice: ToolChoice | undefined;
  if (choice === undefined || choice === null || choice === 'auto') {
    toolChoice = tools.length > 0 ? { auto: {} } : undefined;
  } else if (choice === 'none') {
    toolChoice = undefined;
  } else if (choice === 'required') {
    if (tools.length === 0) throw invalidRequest('`tool_choice` is only allowed when `tools` are specified.', 'tool_choice');
    toolChoice = { any: {} };
  } else if (isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === 'string') {
    const name = choice.function.name;
    if (!tools.some((t) => t.toolSpec?.name === name)) throw invalidRequest(`\`tool_choice\` names \`${name}\`, which is not in \`tools\`.`, 'tool_choice');
    toolChoice = { tool: { name } };
  } else {
    throw invalidRequest('`tool_choice` must be "none", "auto", "required" or {"type":"function","function":{"name":…}}.', 'tool_choice');
  }

  // Bedrock refuses toolUse/toolResult blocks without a toolConfig. With `tool_choice: "none"` we
  // keep the tools (without a choice) when the history needs them; with no tools at all we declare
  // the names the history used, with an open schema, so the conversation can still be replayed.
  const needTools = translated.toolNames.size > 0;
  if (choice === 'none' && !needTools) return undefined;
  if (tools.length === 0) {
    if (!needTools) return undefined;
    return { tools: [...translated.toolNames].map((name) => ({ toolSpec: { name, inputSchema: { json: { type: 'object', properties: {} } } } })) };
  }
  return toolChoice ? { tools, toolChoice } : { tools };
}

function toTools(value: unknown): Tool[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidRequest('`tools` must be an array.', 'tools');
  return value.map((tool, i): Tool => {
    const param = `tools[${i}]`;
    if (!isRecord(tool) || tool.type !== 'function' || !isRecord(tool.function)) {
      throw invalidRequest('Only tools of type `function` are supported.', `${param}.type`);
    }
    const fn = tool.function;
    if (typeof fn.name !== 'string' || !TOOL_NAME.test(fn.name)) {
      throw invalidRequest('A tool name must match ^[a-zA-Z0-9_-]{1,64}$.', `${param}.function.name`);
    }
    if (fn.parameters !== undefined && fn.parameters !== null && !isRecord(fn.parameters)) {
      throw invalidRequest('`parameters` must be a JSON Schema object.', `${param}.function.parameters`);
    }
    const json = (fn.parameters ?? { type: 'object', properties: {} }) as JsonDocument;
    const spec: Tool.ToolSpecMember['toolSpec'] = { name: fn.name, inputSchema: { json } };
    if (typeof fn.description === 'string' && fn.description !== '') spec.description = fn.description;
    return { toolSpec: spec };
  });
}
