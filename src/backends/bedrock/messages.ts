// OpenAI chat messages → Converse `system` + `messages`, enforcing the rules Bedrock checks:
// the first message is from the user, roles alternate (consecutive same-role messages merge),
// no blank text blocks, toolUse inputs are JSON objects.
import type { ContentBlock, ConversationRole, ImageFormat, Message, SystemContentBlock, ToolUseBlock } from '@aws-sdk/client-bedrock-runtime';
import { invalidRequest } from '../../errors.js';
import type { ChatMessage } from '../types.js';

export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const TOOL_USE_ID = /^[a-zA-Z0-9_.:-]{1,64}$/;

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Where the blocks of one original message ended up. */
export interface MessageSpan {
  /** Index in the client's `messages`. */
  original: number;
  /** Index in the merged Converse `messages`. */
  message: number;
  /** Index in that message's `content` just after this original message's blocks. */
  end: number;
}

export interface TranslatedMessages {
  system: SystemContentBlock[];
  messages: Message[];
  /** One span per original non-system message that kept at least one block, in order. */
  spans: MessageSpan[];
  /** Tool names used by assistant tool calls in the conversation. */
  toolNames: Set<string>;
}

export function translateMessages(input: readonly ChatMessage[]): TranslatedMessages {
  const out = emptyTranslation();
  translateInto(out, input, 0, input.length);
  finishMessages(out);
  return out;
}

export const emptyTranslation = (): TranslatedMessages => ({ system: [], messages: [], spans: [], toolNames: new Set() });

/** Translates `input[from..to)` onto `out` (indices in errors and spans are `input`'s). A message
 * with the role of `out`'s last one merges into it, so that last message, and its `content`, must
 * belong to the caller. */
export function translateInto(out: TranslatedMessages, input: readonly ChatMessage[], from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const message = input[i];
    const param = `messages[${i}]`;
    if (!isRecord(message)) throw invalidRequest('Each message must be an object.', param);
    let role: ConversationRole;
    let blocks: ContentBlock[];
    switch (message.role) {
      case 'system':
      case 'developer':
        for (const text of textParts(message.content, `${param}.content`, false)) out.system.push({ text });
        continue;
      case 'user':
        role = 'user';
        blocks = userBlocks(message.content, `${param}.content`);
        break;
      case 'assistant':
        role = 'assistant';
        blocks = assistantBlocks(message, param, out.toolNames);
        break;
      case 'tool':
        role = 'user';
        blocks = [toolResultBlock(message, param)];
        break;
      default:
        throw invalidRequest(`Unsupported message role ${JSON.stringify(message.role)}; expected system, developer, user, assistant or tool.`, `${param}.role`);
    }
    if (blocks.length === 0) continue;
    const last = out.messages[out.messages.length - 1];
    if (last?.role === role && last.content) {
      last.content.push(...blocks);
      out.spans.push({ original: i, message: out.messages.length - 1, end: last.content.length });
    } else {
      out.messages.push({ role, content: blocks });
      out.spans.push({ original: i, message: out.messages.length - 1, end: blocks.length });
    }
  }
}

/** What came before `out.messages` when they continue a translation kept elsewhere (history.ts). */
export interface Preceding {
  /** Converse messages before `out.messages[0]`. */
  count: number;
  /** Role of the very first Converse message, when `count > 0`. */
  firstRole: ConversationRole | undefined;
}

/** The whole conversation's checks, once every message is translated: trims a final prefill and
 * refuses a conversation without messages or not starting with the user. */
export function finishMessages(out: TranslatedMessages, preceding: Preceding = { count: 0, firstRole: undefined }): void {
  trimPrefill(out.messages);
  if (preceding.count + out.messages.length === 0) throw invalidRequest('`messages` must contain at least one user message.', 'messages');
  const firstRole = preceding.count > 0 ? preceding.firstRole : out.messages[0]?.role;
  if (firstRole !== 'user') {
    throw invalidRequest('The first non-system message must be from the user (Bedrock requires it); found an assistant message.', 'messages');
  }
}

/** Claude continues a final assistant message (a prefill) but refuses one that ends in
 * whitespace; that whitespace carries no meaning, so it is trimmed rather than refused. */
function trimPrefill(messages: Message[]): void {
  const final = messages[messages.length - 1];
  const content = final?.role === 'assistant' ? final.content : undefined;
  const last = content?.[content.length - 1];
  if (content && last?.text !== undefined) content[content.length - 1] = { text: last.text.trimEnd() };
}

/** Text of a string or text-part array, with blank text dropped. `refusal` parts count as text
 * where the assistant wrote them. */
function textParts(content: unknown, param: string, allowRefusal: boolean): string[] {
  if (content === undefined || content === null) return [];
  if (typeof content === 'string') return content.trim() === '' ? [] : [content];
  if (!Array.isArray(content)) throw invalidRequest('`content` must be a string or an array of content parts.', param);
  const texts: string[] = [];
  content.forEach((part, j) => {
    const text = partText(part, `${param}[${j}]`, allowRefusal);
    if (text !== undefined) texts.push(text);
  });
  return texts;
}

/** The text of one content part, or undefined when blank. */
function partText(part: unknown, param: string, allowRefusal: boolean): string | undefined {
  let text: unknown;
  if (isRecord(part) && part.type === 'text') text = part.text;
  else if (allowRefusal && isRecord(part) && part.type === 'refusal') text = part.refusal;
  else throw invalidRequest(`Unsupported content part type ${JSON.stringify(isRecord(part) ? part.type : part)} here; expected ${allowRefusal ? 'text or refusal' : 'text'}.`, `${param}.type`);
  if (typeof text !== 'string') throw invalidRequest('A text part needs a string `text`.', `${param}.text`);
  return text.trim() === '' ? undefined : text;
}

function userBlocks(content: unknown, param: string): ContentBlock[] {
  if (!Array.isArray(content)) return textParts(content, param, false).map((text) => ({ text }));
  const blocks: ContentBlock[] = [];
  content.forEach((part, j) => {
    const partParam = `${param}[${j}]`;
    if (isRecord(part) && part.type === 'image_url') {
      blocks.push(imageBlock(part.image_url, `${partParam}.image_url`));
      return;
    }
    if (!isRecord(part) || part.type !== 'text') {
      throw invalidRequest(`Unsupported content part type ${JSON.stringify(isRecord(part) ? part.type : part)}; expected text or image_url.`, `${partParam}.type`);
    }
    const text = partText(part, partParam, false);
    if (text !== undefined) blocks.push({ text });
  });
  return blocks;
}

const IMAGE_FORMATS: Record<string, ImageFormat> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};
const DATA_URL = /^data:([^;,]+)((?:;[^;,]*)*);base64,(.*)$/s;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function imageBlock(imageUrl: unknown, param: string): ContentBlock {
  const url = isRecord(imageUrl) ? imageUrl.url : undefined;
  if (typeof url !== 'string') throw invalidRequest('An image part needs `image_url.url`.', `${param}.url`);
  if (/^https?:/i.test(url)) {
    throw invalidRequest('Remote image URLs are not supported by this model: Bedrock needs the image bytes. Send the image as a base64 data URL (data:image/png;base64,…).', `${param}.url`, 'invalid_image_url');
  }
  const match = DATA_URL.exec(url);
  if (!match) throw invalidRequest('`image_url.url` must be a base64 data URL (data:image/png;base64,…).', `${param}.url`, 'invalid_image_url');
  const mime = (match[1] ?? '').toLowerCase();
  const format = IMAGE_FORMATS[mime];
  if (!format) throw invalidRequest(`Unsupported image type \`${mime}\`; expected png, jpeg, gif or webp.`, `${param}.url`, 'invalid_image_format');
  const data = match[3] ?? '';
  if (data === '' || !BASE64.test(data)) throw invalidRequest('The image data URL is not valid base64.', `${param}.url`, 'invalid_image_url');
  return { image: { format, source: { bytes: new Uint8Array(Buffer.from(data, 'base64')) } } };
}

function assistantBlocks(message: ChatMessage, param: string, toolNames: Set<string>): ContentBlock[] {
  const blocks: ContentBlock[] = textParts(message.content, `${param}.content`, true).map((text) => ({ text }));
  const calls = message.tool_calls;
  if (calls === undefined || calls === null) return blocks;
  if (!Array.isArray(calls)) throw invalidRequest('`tool_calls` must be an array.', `${param}.tool_calls`);
  calls.forEach((call, j) => {
    const toolUse = toolUseBlock(call, `${param}.tool_calls[${j}]`);
    toolNames.add(toolUse.name as string);
    blocks.push({ toolUse });
  });
  return blocks;
}

function toolUseBlock(call: unknown, param: string): ToolUseBlock {
  if (!isRecord(call) || !isRecord(call.function)) throw invalidRequest('A tool call needs `id` and `function`.', param);
  const { id } = call;
  const { name, arguments: args } = call.function;
  if (typeof id !== 'string' || !TOOL_USE_ID.test(id)) throw invalidRequest('A tool call id must match ^[a-zA-Z0-9_.:-]{1,64}$.', `${param}.id`);
  if (typeof name !== 'string' || !TOOL_NAME.test(name)) throw invalidRequest('A tool name must match ^[a-zA-Z0-9_-]{1,64}$.', `${param}.function.name`);
  return { toolUseId: id, name, input: parseArguments(args, `${param}.function.arguments`) };
}

/** `arguments` is a JSON object in a string. An empty string (some clients send it for tools
 * without parameters) means `{}`. */
function parseArguments(args: unknown, param: string): NonNullable<ToolUseBlock['input']> {
  if (typeof args !== 'string') throw invalidRequest('`function.arguments` must be a string holding a JSON object.', param);
  if (args.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw invalidRequest('`function.arguments` is not valid JSON.', param);
  }
  if (!isRecord(parsed)) throw invalidRequest('`function.arguments` must be a JSON object.', param);
  return parsed as NonNullable<ToolUseBlock['input']>;
}

function toolResultBlock(message: ChatMessage, param: string): ContentBlock {
  const id = message.tool_call_id;
  if (typeof id !== 'string' || !TOOL_USE_ID.test(id)) {
    throw invalidRequest('A tool message needs a `tool_call_id` matching ^[a-zA-Z0-9_.:-]{1,64}$.', `${param}.tool_call_id`);
  }
  const content = textParts(message.content, `${param}.content`, false).map((text) => ({ text }));
  return { toolResult: { toolUseId: id, content } };
}
