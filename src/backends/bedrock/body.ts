// Wire step: the Converse / ConverseStream request body as JSON text, written with the native
// JSON.stringify instead of the SDK's schema-driven serializer, which walks every member of every
// block in JavaScript and was the largest per-turn cost of a long session (client.ts hands the SDK
// this text; the SDK still resolves the endpoint, signs, sends and parses the answer).
//
// The result is the same document the SDK writes (restJson1: `modelId` is a path label, blobs are
// base64 strings, documents are plain JSON, absent members are omitted); test/backends/bedrock/
// body.test.ts compares the two.
import type { ConverseInput } from './request.js';

/** The JSON body of a Converse call for `input` (everything but the `modelId` path label). */
export function converseBody(input: ConverseInput): string {
  const body = { messages: input.messages, system: input.system, inferenceConfig: input.inferenceConfig, toolConfig: input.toolConfig };
  // A replacer makes JSON.stringify call back for every value: only pay for it when there are bytes.
  return hasBytes(input) ? JSON.stringify(body, bytesAsBase64) : JSON.stringify(body);
}

function hasBytes(input: ConverseInput): boolean {
  for (const message of input.messages) {
    for (const block of message.content ?? []) if (block.image !== undefined || block.document !== undefined || block.video !== undefined) return true;
  }
  return false;
}

/** Blobs are base64 strings on the wire. `this[key]` is the value before any `toJSON` (a Buffer's
 * would have turned it into `{type, data}`). */
function bytesAsBase64(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  return raw instanceof Uint8Array ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') : value;
}
