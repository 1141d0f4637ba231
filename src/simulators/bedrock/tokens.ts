// A deterministic stand-in for a tokenizer: counts grow with the input so metering and cache
// arithmetic can be asserted exactly. Not Claude's tokenizer, and never meant to be.
import type { ContentBlock, ConverseRequest } from './types.js';

/** ~4 characters per token, at least one token per non-empty piece. */
export const textTokens = (text: string): number => (text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / 4)));
/** Every image costs the same, whatever its bytes (Claude charges by pixel area; size is irrelevant here). */
export const IMAGE_TOKENS = 1600;
/** Role markers and separators around each message. */
export const MESSAGE_OVERHEAD_TOKENS = 3;

export function blockTokens(block: ContentBlock): number {
  if (block.text !== undefined) return textTokens(block.text);
  if (block.image !== undefined) return IMAGE_TOKENS;
  if (block.cachePoint !== undefined) return 0;
  if (block.toolUse !== undefined) return textTokens(JSON.stringify({ name: block.toolUse.name, input: block.toolUse.input }));
  if (block.toolResult !== undefined) {
    return block.toolResult.content.reduce(
      (sum, part) => sum + (part.text !== undefined ? textTokens(part.text) : part.image !== undefined ? IMAGE_TOKENS : textTokens(JSON.stringify(part.json ?? part.document ?? part))),
      1,
    );
  }
  return textTokens(JSON.stringify(block));
}

/** One block of the prompt in model order (tools, system, messages). A cache prefix may end after any block. */
export interface PromptSegment {
  tokens: number;
  /** Stable text identifying the piece; chained hashes of these name cached prefixes. */
  key: string;
}

export interface PromptLayout {
  segments: PromptSegment[];
  /** Number of segments before the last cachePoint, or undefined when the prompt has none. */
  cachePrefixLength: number | undefined;
  cachePoints: number;
  totalTokens: number;
}

/** Lay the prompt out the way Anthropic models read it: tools, then system, then messages. */
export function layoutPrompt(request: ConverseRequest): PromptLayout {
  const segments: PromptSegment[] = [];
  let cachePrefixLength: number | undefined;
  let cachePoints = 0;
  const markCachePoint = () => {
    cachePoints += 1;
    cachePrefixLength = segments.length;
  };
  for (const tool of request.toolConfig?.tools ?? []) {
    if (tool.cachePoint) markCachePoint();
    else segments.push({ tokens: textTokens(JSON.stringify(tool.toolSpec)), key: `tool:${JSON.stringify(tool.toolSpec)}` });
  }
  for (const block of request.system ?? []) {
    if (block.cachePoint) markCachePoint();
    else segments.push({ tokens: textTokens(block.text ?? JSON.stringify(block)), key: `system:${JSON.stringify(block)}` });
  }
  for (const message of request.messages) {
    // The role overhead rides with the message's first block, so prefixes end only at block ends.
    let overhead: PromptSegment | undefined = { tokens: MESSAGE_OVERHEAD_TOKENS, key: `role:${message.role}` };
    for (const block of message.content) {
      if (block.cachePoint) {
        if (overhead) segments.push(overhead);
        overhead = undefined;
        markCachePoint();
        continue;
      }
      const key = `block:${JSON.stringify(block)}`;
      segments.push(overhead ? { tokens: overhead.tokens + blockTokens(block), key: `${overhead.key}|${key}` } : { tokens: blockTokens(block), key });
      overhead = undefined;
    }
    if (overhead) segments.push(overhead);
  }
  // A structured-output schema is read by the model too (as Claude's format instructions), after
  // the prompt: never part of a cached prefix, billed as input.
  const schema = request.outputConfig?.textFormat?.structure.jsonSchema.schema;
  if (schema !== undefined) segments.push({ tokens: textTokens(schema), key: `outputConfig:${schema}` });
  const totalTokens = segments.reduce((sum, s) => sum + s.tokens, 0);
  return { segments, cachePrefixLength, cachePoints, totalTokens };
}
