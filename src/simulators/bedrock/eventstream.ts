// ConverseStream's `application/vnd.amazon.eventstream` framing, encoded by the same codec the SDK
// decodes with. Each event's payload is the event's members (not wrapped in its name), plus the
// padding field `p` that AWS adds so frame sizes do not reveal token lengths.
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
// https://docs.aws.amazon.com/transcribe/latest/dg/streaming-setting-up.html (frame layout)
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { Answer, ConverseUsage } from './types.js';

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const PADDING_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export interface StreamEvent {
  type: string;
  payload: Record<string, unknown>;
}

/** Deterministic padding of varying length, like the `p` field real frames carry. */
const padding = (seq: number) => PADDING_ALPHABET.slice(0, 1 + ((seq * 7) % PADDING_ALPHABET.length));

export function encodeEvent(event: StreamEvent, seq: number): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: event.type },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: fromUtf8(JSON.stringify({ ...event.payload, p: padding(seq) })),
  });
}

/** An error after the 200 status: the SDK throws it as the modelled exception while iterating. */
export function encodeException(exceptionType: string, message: string): Uint8Array {
  return codec.encode({
    headers: {
      ':exception-type': { type: 'string', value: exceptionType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'exception' },
    },
    body: fromUtf8(JSON.stringify({ message })),
  });
}

/** Split text into small word-aligned deltas, as the model streams it. */
function textDeltas(text: string): string[] {
  const pieces = text.match(/\S+\s*|\s+/g) ?? [];
  const deltas: string[] = [];
  for (let i = 0; i < pieces.length; i += 3) deltas.push(pieces.slice(i, i + 3).join(''));
  return deltas.length > 0 ? deltas : [text];
}

/** Tool input arrives as partial JSON strings that only parse once concatenated. */
function jsonDeltas(json: string): string[] {
  const size = Math.max(1, Math.ceil(json.length / 3));
  const deltas: string[] = [];
  for (let i = 0; i < json.length; i += size) deltas.push(json.slice(i, i + size));
  return deltas;
}

/** The events of one answer, in the order Bedrock sends them. */
export function* answerEvents(answer: Answer, usage: ConverseUsage, latencyMs: () => number): Generator<StreamEvent> {
  yield { type: 'messageStart', payload: { role: 'assistant' } };
  for (const [index, block] of answer.content.entries()) {
    if ('reasoningContent' in block) {
      // Thinking streams as text deltas, then its signature in a delta of its own.
      const { text, signature } = block.reasoningContent.reasoningText;
      for (const part of textDeltas(text)) {
        yield { type: 'contentBlockDelta', payload: { contentBlockIndex: index, delta: { reasoningContent: { text: part } } } };
      }
      yield { type: 'contentBlockDelta', payload: { contentBlockIndex: index, delta: { reasoningContent: { signature } } } };
    } else if ('toolUse' in block) {
      const { toolUseId, name, input } = block.toolUse;
      yield { type: 'contentBlockStart', payload: { contentBlockIndex: index, start: { toolUse: { toolUseId, name } } } };
      for (const part of jsonDeltas(JSON.stringify(input))) {
        yield { type: 'contentBlockDelta', payload: { contentBlockIndex: index, delta: { toolUse: { input: part } } } };
      }
    } else {
      for (const part of answer.structured ? jsonDeltas(block.text) : textDeltas(block.text)) {
        yield { type: 'contentBlockDelta', payload: { contentBlockIndex: index, delta: { text: part } } };
      }
    }
    yield { type: 'contentBlockStop', payload: { contentBlockIndex: index } };
  }
  yield { type: 'messageStop', payload: { stopReason: answer.stopReason } };
  yield { type: 'metadata', payload: { usage, metrics: { latencyMs: latencyMs() } } };
}
