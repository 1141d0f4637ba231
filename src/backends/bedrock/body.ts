// Wire step: the Converse / ConverseStream request body as JSON text, written with the native
// JSON.stringify instead of the SDK's schema-driven serializer, which walks every member of every
// block in JavaScript and was the largest per-turn cost of a long session (client.ts hands the SDK
// this text; the SDK still resolves the endpoint, signs, sends and parses the answer).
//
// The result is the same document the SDK writes (restJson1: `modelId` is a path label, blobs are
// base64 strings, documents are plain JSON, absent members are omitted); test/backends/bedrock/
// body.test.ts compares the two.
import type { Message } from '@aws-sdk/client-bedrock-runtime';
import type { ConverseInput } from './request.js';

/** The JSON body of a Converse call for `input` (everything but the `modelId` path label). */
export function converseBody(input: ConverseInput): string {
  // `messages` first: BODY_START. The rest in the SDK's order (ConverseRequest's members).
  const body = { messages: input.messages, system: input.system, inferenceConfig: input.inferenceConfig, toolConfig: input.toolConfig, outputConfig: input.outputConfig };
  // One call over the whole body is much faster than one per message (and than joining their text).
  return input.messages.some(hasBytes) ? JSON.stringify(body, bytesAsBase64) : JSON.stringify(body);
}

/** How every body starts: the messages come first, so a body can be continued after some of them
 * (history.ts: BODY_START, then `JSON + ','` per kept message, then the rest). */
export const BODY_START = '{"messages":[';

/** A list of messages as a JSON array. */
export function messagesJson(messages: readonly Message[]): string {
  return messages.some(hasBytes) ? JSON.stringify(messages, bytesAsBase64) : JSON.stringify(messages);
}

function hasBytes(message: Message): boolean {
  for (const block of message.content ?? []) if (block.image !== undefined || block.document !== undefined || block.video !== undefined) return true;
  return false;
}

/** Blobs are base64 strings on the wire. `this[key]` is the value before any `toJSON` (a Buffer's
 * would have turned it into `{type, data}`). */
function bytesAsBase64(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  return raw instanceof Uint8Array ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') : value;
}
