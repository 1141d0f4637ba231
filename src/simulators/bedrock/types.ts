// The Converse wire shapes the simulator reads and writes (rest-json, as the SDK serialises them).
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
// Request bodies are untrusted JSON: validate.ts checks them before anything else relies on these types.

export type JsonObject = Record<string, unknown>;

export interface ToolUseBlock {
  toolUseId: string;
  name: string;
  input: JsonObject;
}

export interface ToolResultBlock {
  toolUseId: string;
  content: Array<{ text?: string; json?: unknown; image?: unknown; document?: unknown }>;
  status?: 'success' | 'error';
}

/** Exactly one member is set (validate.ts enforces it). */
export interface ContentBlock {
  text?: string;
  image?: { format: string; source: { bytes?: string } };
  document?: unknown;
  video?: unknown;
  toolUse?: ToolUseBlock;
  toolResult?: ToolResultBlock;
  cachePoint?: { type: string };
  reasoningContent?: unknown;
  guardContent?: unknown;
}

export interface Message {
  role: 'user' | 'assistant';
  content: ContentBlock[];
}

export interface SystemBlock {
  text?: string;
  cachePoint?: { type: string };
  guardContent?: unknown;
}

export interface ToolSpec {
  name: string;
  description?: string;
  inputSchema: { json: JsonObject };
}

export interface Tool {
  toolSpec?: ToolSpec;
  cachePoint?: { type: string };
}

export type ToolChoice = { auto: JsonObject } | { any: JsonObject } | { tool: { name: string } };

export interface ConverseRequest {
  messages: Message[];
  system?: SystemBlock[];
  inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; stopSequences?: string[] };
  toolConfig?: { tools: Tool[]; toolChoice?: ToolChoice };
  additionalModelRequestFields?: unknown;
  outputConfig?: OutputConfig;
}

/** Structured output. validate.ts checks the schema string parses to a JSON object.
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_OutputConfig.html */
export interface OutputConfig {
  textFormat?: { type: 'json_schema'; structure: { jsonSchema: { schema: string; name?: string; description?: string } } };
  effort?: string;
}

/** The schema of a request's structured output, parsed (validate.ts made sure it parses). */
export const outputSchemaOf = (request: ConverseRequest): JsonObject | undefined => {
  const schema = request.outputConfig?.textFormat?.structure.jsonSchema.schema;
  return schema === undefined ? undefined : (JSON.parse(schema) as JsonObject);
};

export type StopReason = 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence';

export interface ConverseUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

/** What the answer generator produced, before it is written as JSON or as event-stream frames. */
export interface ReasoningBlock {
  reasoningText: { text: string; signature: string };
}

export interface Answer {
  content: Array<{ text: string } | { toolUse: ToolUseBlock } | { reasoningContent: ReasoningBlock }>;
  stopReason: StopReason;
  outputTokens: number;
  /** The text is a structured-output JSON document (streamed in pieces of the document, not by words). */
  structured?: boolean;
}
