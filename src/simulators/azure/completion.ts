// Deterministic chat answers for the simulator: the same request always gives the same text,
// tool calls and token counts, so tests can assert exact numbers.
//
// Token counting (documented so tests can compute expectations by hand):
//   prompt     = 3 + Σ over messages (4 + ceil(chars / 4)) [+ ceil(JSON(tools).length / 4) when tools are offered]
//                where chars counts the text content, the `name` and each tool call's name + arguments
//   completion = n × (one token per word of the answer (a word keeps its trailing space; a JSON answer for a
//                response_format is cut after each `,` and `:` instead), or for tool calls
//                Σ ceil((name + arguments).length / 4) + 1 per call), n choices of one answer each
import { createHash } from 'node:crypto';
import { schemaInstance } from '../schema-instance.js';

export const CONTENT_FILTER_TRIGGER = 'forbidden-topic';

type Json = Record<string, unknown>;

export interface PlannedToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface ChatPlan {
  /** The answer split into tokens (one word each); empty for a tool-call answer. */
  pieces: string[];
  toolCalls: PlannedToolCall[];
  finishReason: 'stop' | 'length' | 'tool_calls';
  /** How many choices carry the answer (`n`); each is the same answer, and each is billed. */
  choices: number;
  promptTokens: number;
  /** Of all the choices together. */
  completionTokens: number;
}

export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content
      .map((part) => (part && typeof part === 'object' && typeof (part as Json).text === 'string' ? ((part as Json).text as string) : ''))
      .join('');
  return '';
}

const messageChars = (message: Json): number => {
  let chars = textOf(message.content).length + (typeof message.name === 'string' ? message.name.length : 0);
  if (Array.isArray(message.tool_calls))
    for (const call of message.tool_calls as Json[]) {
      const fn = (call.function ?? {}) as Json;
      chars += String(fn.name ?? '').length + String(fn.arguments ?? '').length;
    }
  return chars;
};

export function countPromptTokens(messages: Json[], tools: unknown): number {
  let tokens = 3;
  for (const message of messages) tokens += 4 + Math.ceil(messageChars(message) / 4);
  if (Array.isArray(tools) && tools.length > 0) tokens += Math.ceil(JSON.stringify(tools).length / 4);
  return tokens;
}

/** Whether any message would trip the simulated prompt filter. */
export const tripsContentFilter = (messages: Json[]): boolean =>
  messages.some((m) => textOf(m.content).toLowerCase().includes(CONTENT_FILTER_TRIGGER));

const words = (text: string): string[] => text.match(/\S+\s*/g) ?? [];
/** A compact JSON answer has no spaces: its tokens end at each `,` and `:` instead. */
const jsonPieces = (text: string): string[] => text.match(/[^,:]+[,:]?|[,:]/g) ?? [];

const shortHash = (text: string): string => createHash('sha256').update(text).digest('base64url').slice(0, 24);

function toolsToCall(body: Json, lastUserText: string): Json[] {
  const tools = (Array.isArray(body.tools) ? body.tools : []).filter(
    (t): t is Json => !!t && typeof t === 'object' && (t as Json).type === 'function',
  );
  if (tools.length === 0 || body.tool_choice === 'none') return [];
  const nameOf = (t: Json) => String(((t.function ?? {}) as Json).name ?? '');
  const choice = body.tool_choice;
  if (choice && typeof choice === 'object') {
    const forced = String((((choice as Json).function ?? {}) as Json).name ?? '');
    return tools.filter((t) => nameOf(t) === forced);
  }
  const text = lastUserText.toLowerCase();
  const named = tools.filter((t) => nameOf(t) !== '' && text.includes(nameOf(t).toLowerCase()));
  if (named.length > 0) return named;
  if (choice === 'required' || /\buse (the|a) tool\b/.test(text)) return tools.slice(0, 1);
  return [];
}

/** Arguments filled from the tool's JSON schema: strings get the user's text, numbers its length. */
function argumentsFor(tool: Json, userText: string): string {
  const params = (((tool.function ?? {}) as Json).parameters ?? {}) as Json;
  const properties = (params.properties ?? {}) as Record<string, Json>;
  const args: Json = {};
  for (const [key, schema] of Object.entries(properties)) {
    const type = schema?.type;
    args[key] =
      type === 'string' ? userText
      : type === 'number' || type === 'integer' ? userText.length
      : type === 'boolean' ? true
      : null;
  }
  return JSON.stringify(args);
}

/** The answer as the JSON a `response_format` asks for: a `json_schema` gets one compact JSON
 * instance of the schema (schema-instance.ts), `json_object` the text as a JSON object; undefined
 * when the format asks for none (then the answer is the text).
 * https://learn.microsoft.com/azure/ai-foundry/openai/how-to/structured-outputs */
function jsonAnswer(text: string, format: unknown, messages: Json[]): string | undefined {
  const f = (format && typeof format === 'object' ? format : {}) as Json;
  if (f.type === 'json_object') return JSON.stringify({ answer: text });
  const schema = ((f.json_schema ?? {}) as Json).schema;
  if (f.type !== 'json_schema' || !schema || typeof schema !== 'object' || Array.isArray(schema)) return undefined;
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  return JSON.stringify(schemaInstance(schema as Json, { userText: lastUser ? textOf(lastUser.content) : '' }));
}

function answerText(messages: Json[]): string {
  const last = messages.at(-1);
  if (last?.role === 'tool') {
    const callId = last.tool_call_id;
    let name = 'tool';
    for (const m of messages)
      for (const call of (Array.isArray(m.tool_calls) ? m.tool_calls : []) as Json[])
        if (call.id === callId) name = String(((call.function ?? {}) as Json).name ?? name);
    return `The ${name} tool returned: ${textOf(last.content)}`;
  }
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  if (!lastUser) return 'Hello! How can I help you today?';
  return `You said: ${textOf(lastUser.content)}`;
}

export function planChat(body: Json): ChatPlan {
  const messages = body.messages as Json[];
  const choices = typeof body.n === 'number' && Number.isInteger(body.n) && body.n > 1 ? body.n : 1;
  const promptTokens = countPromptTokens(messages, body.tools);
  const last = messages.at(-1);
  const lastUserText = last?.role === 'user' ? textOf(last.content) : '';

  const tools = last?.role === 'user' ? toolsToCall(body, lastUserText) : [];
  if (tools.length > 0) {
    const toolCalls = tools.map((tool, index) => {
      const name = String(((tool.function ?? {}) as Json).name);
      const args = argumentsFor(tool, lastUserText);
      return { id: `call_${shortHash(`${index}:${name}:${args}`)}`, name, arguments: args };
    });
    const completionTokens = toolCalls.reduce((n, c) => n + Math.ceil((c.name + c.arguments).length / 4) + 1, 0);
    return { pieces: [], toolCalls, finishReason: 'tool_calls', choices, promptTokens, completionTokens: completionTokens * choices };
  }

  const text = answerText(messages);
  const json = jsonAnswer(text, body.response_format, messages);
  const all = json === undefined ? words(text) : jsonPieces(json);
  const limit = body.max_completion_tokens ?? body.max_tokens;
  const pieces = typeof limit === 'number' && limit < all.length ? all.slice(0, limit) : all;
  return {
    pieces,
    toolCalls: [],
    finishReason: pieces.length < all.length ? 'length' : 'stop',
    choices,
    promptTokens,
    completionTokens: pieces.length * choices,
  };
}

/** A deterministic unit vector per input text. */
export function embed(text: string, dimensions: number): number[] {
  const vector: number[] = [];
  for (let block = 0; vector.length < dimensions; block++) {
    const digest = createHash('sha256').update(`${block}:${text}`).digest();
    for (const byte of digest) {
      if (vector.length === dimensions) break;
      vector.push(byte / 127.5 - 1);
    }
  }
  const norm = Math.sqrt(vector.reduce((s, v) => s + v * v, 0)) || 1;
  return vector.map((v) => Math.fround(v / norm));
}
