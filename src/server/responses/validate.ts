// Strict checks on the fields of `POST /v1/responses` the gateway reads and translates; every
// failure is a 400 in OpenAI's shape naming the offending `param` (e.g. `input[2].content[0].text`).
// Fields the gateway neither reads nor forwards (user, truncation, include, …) are accepted and ignored.
// https://platform.openai.com/docs/api-reference/responses/create
import { z } from 'zod';
import { invalidRequest } from '../../errors.js';
import { requireModel, requireObject } from '../validate.js';

const inputText = z.looseObject({ type: z.literal('input_text'), text: z.string() });
const inputImage = z.looseObject({
  type: z.literal('input_image'),
  image_url: z.string().min(1).nullish(),
  file_id: z.string().nullish(),
  detail: z.enum(['low', 'high', 'auto']).nullish(),
});
const outputText = z.looseObject({ type: z.literal('output_text'), text: z.string() });
const refusal = z.looseObject({ type: z.literal('refusal'), refusal: z.string() });

const messageItem = z.looseObject({
  type: z.literal('message').optional(),
  id: z.string().optional(),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([z.string(), z.array(z.unknown())]),
});
const functionCallItem = z.looseObject({
  type: z.literal('function_call'),
  id: z.string().optional(),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
});
const functionCallOutputItem = z.looseObject({
  type: z.literal('function_call_output'),
  id: z.string().optional(),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(z.unknown())]),
});

// https://platform.openai.com/docs/api-reference/responses/create#responses-create-input (Item reference)
const itemReference = z.looseObject({ type: z.literal('item_reference').nullish(), id: z.string().min(1) });

const functionTool = z.looseObject({
  type: z.literal('function'),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1-64 characters of a-z, A-Z, 0-9, _ or -'),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});

const metadata = z
  .record(z.string().max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 16, 'must have at most 16 keys');

const textFormat = z.looseObject({
  format: z
    .union([
      z.looseObject({ type: z.literal('text') }),
      z.looseObject({ type: z.literal('json_object') }),
      z.looseObject({ type: z.literal('json_schema'), name: z.string().min(1), schema: z.record(z.string(), z.unknown()), strict: z.boolean().nullish(), description: z.string().nullish() }),
    ])
    .optional(),
});

const createSchema = z.looseObject({
  instructions: z.string().nullish(),
  previous_response_id: z.string().min(1).nullish(),
  conversation: z.unknown().optional(),
  store: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  background: z.boolean().nullish(),
  max_output_tokens: z.int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  metadata: metadata.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  text: textFormat.nullish(),
});

export type InputContentPart = z.infer<typeof inputText> | z.infer<typeof inputImage> | z.infer<typeof outputText> | z.infer<typeof refusal>;
// Intersections, not Omit: Omit over a loose object's index signature would erase the known keys.
export type MessageItem = z.infer<typeof messageItem> & { content: string | InputContentPart[] };
export type FunctionCallItem = z.infer<typeof functionCallItem>;
export type FunctionCallOutputItemParam = z.infer<typeof functionCallOutputItem> & { output: string | InputContentPart[] };
export type InputItem = (MessageItem & { type?: 'message' }) | FunctionCallItem | FunctionCallOutputItemParam;
/** An earlier item named by its id alone; references.ts replaces it with the stored item. */
export interface ItemReference {
  type: 'item_reference';
  id: string;
}
export type FunctionTool = z.infer<typeof functionTool>;
export type ToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; name: string };

/** The validated request: the fields the gateway reads, typed. As validated its items may be
 * references (`Item`: InputItem | ItemReference); once they are resolved, only input items. */
export type ResponsesRequest<Item = InputItem> = z.infer<typeof createSchema> & {
  model: string;
  input: string | Item[];
  tools: FunctionTool[];
  tool_choice: ToolChoice | undefined;
};

type PathPart = PropertyKey;
const paramOf = (path: readonly PathPart[]): string =>
  path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)), '');

function valueAt(root: unknown, path: readonly PathPart[]): unknown {
  let value = root;
  for (const part of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

/** Parses `value` (found at `at` inside `root`) or throws the 400 for its first issue. */
function parse<T extends z.ZodType>(schema: T, value: unknown, at: PathPart[], root: unknown): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = [...at, ...issue.path];
  const param = paramOf(path);
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_union') && valueAt(root, path) === undefined)
    throw invalidRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
  if (issue.code === 'invalid_type')
    throw invalidRequest(`Invalid type for '${param}': expected ${issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`}.`, param, 'invalid_type');
  if (issue.code === 'invalid_union') throw invalidRequest(`Invalid type for '${param}': it matches none of the accepted forms.`, param, 'invalid_type');
  if (issue.code === 'invalid_value') {
    const allowed = issue.values.map((v) => JSON.stringify(v)).join(', ');
    throw invalidRequest(`Invalid value for '${param}': expected one of ${allowed}.`, param, 'invalid_value');
  }
  throw invalidRequest(`Invalid '${param}': ${issue.message}.`, param, 'invalid_value');
}

const unsupported = (what: string, param: string) =>
  invalidRequest(`${what} is not supported by this gateway.`, param, 'unsupported_parameter');

function contentParts(parts: unknown[], at: PathPart[], root: unknown, allowed: readonly string[]): InputContentPart[] {
  const schemas: Record<string, z.ZodType> = { input_text: inputText, input_image: inputImage, output_text: outputText, refusal };
  return parts.map((part, i) => {
    const here = paramOf([...at, i]);
    if (typeof part !== 'object' || part === null || Array.isArray(part))
      throw invalidRequest(`Invalid type for '${here}': expected an object.`, here, 'invalid_type');
    const type = (part as { type?: unknown }).type;
    if (type === undefined) throw invalidRequest(`Missing required parameter: '${here}.type'.`, `${here}.type`, 'missing_required_parameter');
    if (typeof type !== 'string' || !allowed.includes(type))
      throw invalidRequest(`Invalid value for '${here}.type': this gateway accepts ${allowed.map((a) => `'${a}'`).join(' or ')} here.`, `${here}.type`, 'invalid_value');
    const parsed = parse(schemas[type]!, part, [...at, i], root) as InputContentPart;
    if (parsed.type === 'input_image' && !parsed.image_url) throw unsupported('An input_image without image_url (file_id)', `${here}.image_url`);
    return parsed;
  });
}

function inputItem(item: unknown, i: number, root: unknown): InputItem | ItemReference {
  const at: PathPart[] = ['input', i];
  if (typeof item !== 'object' || item === null || Array.isArray(item))
    throw invalidRequest(`Invalid type for 'input[${i}]': expected an object.`, `input[${i}]`, 'invalid_type');
  const type = (item as { type?: unknown }).type;
  // A reference may leave out its type (OpenAI's ItemReferenceParam): an id without a role is one.
  if (type === 'item_reference' || ((type === undefined || type === null) && 'id' in item && !('role' in item)))
    return { type: 'item_reference', id: parse(itemReference, item, at, root).id };
  if (type === undefined || type === 'message') {
    const m = parse(messageItem, item, at, root);
    const allowed = m.role === 'assistant' ? ['output_text', 'refusal'] : ['input_text', 'input_image'];
    return { ...m, content: typeof m.content === 'string' ? m.content : contentParts(m.content, [...at, 'content'], root, allowed) };
  }
  if (type === 'function_call') return parse(functionCallItem, item, at, root);
  if (type === 'function_call_output') {
    const o = parse(functionCallOutputItem, item, at, root);
    return { ...o, output: typeof o.output === 'string' ? o.output : contentParts(o.output, [...at, 'output'], root, ['input_text']) };
  }
  throw unsupported(`Input items of type '${String(type)}'`, `input[${i}].type`);
}

function toolChoice(value: unknown): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === 'none' || value === 'auto' || value === 'required') return value;
  if (typeof value === 'object' && !Array.isArray(value) && (value as { type?: unknown }).type === 'function') {
    const name = (value as { name?: unknown }).name;
    if (typeof name !== 'string' || !name) throw invalidRequest("Missing required parameter: 'tool_choice.name'.", 'tool_choice.name', 'missing_required_parameter');
    return { type: 'function', name };
  }
  throw invalidRequest("Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or {type: 'function', name}.", 'tool_choice', 'invalid_value');
}

export function responsesRequest(raw: unknown): ResponsesRequest<InputItem | ItemReference> {
  const body = requireObject(raw);
  const model = requireModel(body);
  const fields = parse(createSchema, body, [], body);
  if (fields.previous_response_id != null && fields.conversation != null)
    throw invalidRequest("Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or 'conversation'.", 'conversation', 'mutually_exclusive_parameters');
  if (fields.conversation != null) throw unsupported("'conversation' (the Conversations API); use 'previous_response_id'", 'conversation');
  if (fields.background) throw unsupported("'background: true'", 'background');

  const { input } = body;
  if (input === undefined) throw invalidRequest("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
  if (typeof input !== 'string' && !Array.isArray(input)) throw invalidRequest("Invalid type for 'input': expected a string or an array of input items.", 'input', 'invalid_type');
  if (Array.isArray(input) && input.length === 0 && fields.previous_response_id == null)
    throw invalidRequest("Invalid 'input': empty array. Expected at least one item when there is no 'previous_response_id'.", 'input', 'empty_array');
  const items = typeof input === 'string' ? input : input.map((item, i) => inputItem(item, i, body));

  const { tools } = body;
  if (tools != null && !Array.isArray(tools)) throw invalidRequest("Invalid type for 'tools': expected an array.", 'tools', 'invalid_type');
  const functionTools = (tools ?? []).map((tool: unknown, i: number) => {
    const type = (tool as { type?: unknown } | null)?.type;
    if (typeof type === 'string' && type !== 'function') throw unsupported(`Tools of type '${type}' (only 'function' tools are)`, `tools[${i}].type`);
    return parse(functionTool, tool, ['tools', i], body);
  });
  const choice = toolChoice(body.tool_choice);
  if (typeof choice === 'object' && !functionTools.some((t) => t.name === choice.name))
    throw invalidRequest(`Invalid 'tool_choice': no function named '${choice.name}' in 'tools'.`, 'tool_choice.name', 'invalid_value');

  return { ...fields, model, input: items, tools: functionTools, tool_choice: choice };
}
