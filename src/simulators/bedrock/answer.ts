// The simulated model: a deterministic answer derived from the last user message, so tests can
// assert text, stop reasons and token counts exactly.
// Tool use follows Claude's habits: asked for a tool (by name, by "use the tool", or forced by
// toolChoice any/tool) it answers with a toolUse block and stopReason tool_use; given a toolResult
// it answers in text quoting the result. With extended thinking enabled, a reasoning block comes first.
// https://docs.aws.amazon.com/bedrock/latest/userguide/tool-use.html
// https://docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-extended-thinking.html
import { createHash } from 'node:crypto';
import { schemaInstance } from '../schema-instance.js';
import { textTokens } from './tokens.js';
import { outputSchemaOf, type Answer, type ContentBlock, type ConverseRequest, type JsonObject, type Message, type ReasoningBlock, type ToolSpec, type ToolUseBlock } from './types.js';

const SNIPPET_CHARS = 200;
/** What Claude does when inferenceConfig.maxTokens is absent: stop at the model's own limit. */
const DEFAULT_MAX_TOKENS = 4096;

const textOf = (blocks: ContentBlock[]) =>
  blocks
    .map((b) => b.text)
    .filter((t): t is string => t !== undefined)
    .join(' ')
    .trim();

const snippet = (text: string) => (text.length > SNIPPET_CHARS ? `${text.slice(0, SNIPPET_CHARS)}…` : text);

/** Example arguments from a JSON schema: strings from the user's words, numbers from their digits. */
function inputFor(schema: JsonObject, userText: string): JsonObject {
  const properties = (schema['properties'] ?? {}) as Record<string, JsonObject>;
  const required = Array.isArray(schema['required']) ? (schema['required'] as string[]) : Object.keys(properties);
  const quoted = /"([^"]+)"/.exec(userText)?.[1];
  const number = /-?\d+(?:\.\d+)?/.exec(userText)?.[0];
  const input: JsonObject = {};
  for (const name of required) {
    const prop = properties[name] ?? {};
    const enumValues = prop['enum'];
    if (Array.isArray(enumValues) && enumValues.length > 0) input[name] = enumValues[0];
    else if (prop['type'] === 'number' || prop['type'] === 'integer') input[name] = number === undefined ? 1 : Number(number);
    else if (prop['type'] === 'boolean') input[name] = true;
    else if (prop['type'] === 'array') input[name] = [];
    else if (prop['type'] === 'object') input[name] = {};
    else input[name] = quoted ?? userText.slice(0, 64);
  }
  return input;
}

/** Stable id in Bedrock's `tooluse_` + 22 characters form, derived from the conversation. */
const toolUseIdFor = (modelId: string, messages: Message[]) =>
  `tooluse_${createHash('sha256').update(modelId).update(JSON.stringify(messages)).digest('base64url').slice(0, 22)}`;

function chooseTool(request: ConverseRequest, userText: string, answeringToolResult: boolean): ToolSpec | undefined {
  const specs = (request.toolConfig?.tools ?? []).map((t) => t.toolSpec).filter((s): s is ToolSpec => s !== undefined);
  if (specs.length === 0) return undefined;
  const choice = request.toolConfig?.toolChoice;
  if (choice && 'tool' in choice) return specs.find((s) => s.name === choice.tool.name);
  const lower = userText.toLowerCase();
  const mentioned = specs.find((s) => lower.includes(s.name.toLowerCase()));
  if (choice && 'any' in choice) return mentioned ?? specs[0];
  if (answeringToolResult) return undefined;
  if (mentioned) return mentioned;
  return /\buse (?:the|a) tool\b/i.test(userText) ? specs[0] : undefined;
}

function toolResultSummary(request: ConverseRequest, lastUser: Message): string {
  const previous = request.messages[request.messages.lastIndexOf(lastUser) - 1];
  const parts = lastUser.content
    .filter((b) => b.toolResult !== undefined)
    .map((b) => {
      const result = b.toolResult!;
      const name = previous?.content.find((p) => p.toolUse?.toolUseId === result.toolUseId)?.toolUse?.name ?? 'tool';
      const value = result.content.map((c) => (c.text !== undefined ? c.text : JSON.stringify(c.json ?? c))).join(' ');
      return `The ${name} tool returned${result.status === 'error' ? ' an error' : ''}: ${snippet(value)}.`;
    });
  const extra = textOf(lastUser.content);
  return extra ? `${parts.join(' ')} You also said: "${snippet(extra)}".` : parts.join(' ');
}

/** Cut at the earliest stop sequence, then at maxTokens; report why the text ended. */
function limitText(text: string, stopSequences: string[], maxTokens: number): { text: string; stopReason: Answer['stopReason'] } {
  let stopReason: Answer['stopReason'] = 'end_turn';
  let cutAt = text.length;
  for (const stop of stopSequences) {
    const at = text.indexOf(stop);
    if (at >= 0 && at < cutAt) {
      cutAt = at;
      stopReason = 'stop_sequence';
    }
  }
  let limited = text.slice(0, cutAt);
  if (textTokens(limited) > maxTokens) {
    limited = limited.slice(0, maxTokens * 4);
    stopReason = 'max_tokens';
  }
  return { text: limited, stopReason };
}

/** Anthropic's extended thinking, passed through `additionalModelRequestFields` (validate.ts checks it). */
export const thinkingBudget = (request: ConverseRequest): number | undefined => {
  const fields = request.additionalModelRequestFields as { thinking?: { type?: string; budget_tokens?: number } } | undefined;
  return fields?.thinking?.type === 'enabled' ? fields.thinking.budget_tokens : undefined;
};

/** Deterministic thinking, with an opaque signature like the one a client must send back. */
function reasoningFor(modelId: string, userText: string): ReasoningBlock {
  const text = `The user wrote "${snippet(userText)}". A short, direct answer fits.`;
  return { reasoningText: { text, signature: createHash('sha256').update(modelId).update(text).digest('base64') } };
}

export function generateAnswer(request: ConverseRequest, modelId: string): Answer {
  const answer = generateVisibleAnswer(request, modelId);
  if (thinkingBudget(request) === undefined) return answer;
  // Thinking comes first and counts as output; the visible answer follows it.
  const lastUser = [...request.messages].reverse().find((m) => m.role === 'user')!;
  const reasoningContent = reasoningFor(modelId, textOf(lastUser.content));
  return {
    ...answer,
    content: [{ reasoningContent }, ...answer.content],
    outputTokens: answer.outputTokens + textTokens(reasoningContent.reasoningText.text),
  };
}

function generateVisibleAnswer(request: ConverseRequest, modelId: string): Answer {
  const lastUser = [...request.messages].reverse().find((m) => m.role === 'user')!;
  const userText = textOf(lastUser.content);
  const answeringToolResult = lastUser.content.some((b) => b.toolResult !== undefined);
  const maxTokens = request.inferenceConfig?.maxTokens ?? DEFAULT_MAX_TOKENS;
  const stopSequences = request.inferenceConfig?.stopSequences ?? [];
  const choice = request.toolConfig?.toolChoice;
  const forced = choice !== undefined && ('any' in choice || 'tool' in choice);

  const tool = request.toolConfig ? chooseTool(request, userText, answeringToolResult) : undefined;
  if (tool) {
    const toolUse: ToolUseBlock = {
      toolUseId: toolUseIdFor(modelId, request.messages),
      name: tool.name,
      input: inputFor(tool.inputSchema.json, userText),
    };
    // Claude explains itself before an unforced tool call; a forced call comes without text.
    const preamble = forced ? '' : `I'll use the ${tool.name} tool.`;
    const outputTokens = textTokens(preamble) + textTokens(JSON.stringify({ name: toolUse.name, input: toolUse.input }));
    if (outputTokens <= maxTokens) {
      return {
        content: preamble ? [{ text: preamble }, { toolUse }] : [{ toolUse }],
        stopReason: 'tool_use',
        outputTokens,
      };
    }
    // Not enough room for the call: the model runs out while still talking.
    const limited = limitText(preamble || `Calling ${tool.name}`, [], maxTokens);
    return { content: [{ text: limited.text }], stopReason: 'max_tokens', outputTokens: textTokens(limited.text) };
  }

  const prose = answeringToolResult
    ? toolResultSummary(request, lastUser)
    : `Simulated answer from ${modelId}. You said: "${snippet(userText)}". That is ${userText.length} characters in ${request.messages.length} message${request.messages.length === 1 ? '' : 's'}.`;
  // Structured output: the whole text is one JSON document conforming to the schema (compact, as
  // constrained decoding writes it); maxTokens and stop sequences still cut it like any text.
  const schema = outputSchemaOf(request);
  const full = schema ? JSON.stringify(schemaInstance(schema, { userText: answeringToolResult ? textOf(lastUser.content) || prose : userText })) : prose;
  const { text, stopReason } = limitText(full, stopSequences, maxTokens);
  return { content: text ? [{ text }] : [], stopReason, outputTokens: textTokens(text), ...(schema && { structured: true }) };
}
