// Queued faults surface in the real SDK as the exception classes a gateway must map.
import {
  AccessDeniedException,
  ConverseCommand,
  ConverseStreamCommand,
  InternalServerException,
  ModelErrorException,
  ModelNotReadyException,
  ModelStreamErrorException,
  ModelTimeoutException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BedrockSimulator, ErrorFaultType, StreamExceptionType } from '../../../src/simulators/bedrock/index.js';
import { client, HAIKU, SONNET, startSim, user, type Transport } from './helpers.js';

let sim: BedrockSimulator;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(() => sim.close());
beforeEach(() => sim.faults.clear());

const converse = () => new ConverseCommand({ modelId: SONNET, messages: [user('Hello there')] });
const converseStream = () => new ConverseStreamCommand({ modelId: SONNET, messages: [user('Hello there')] });

const errorFaults: Array<[ErrorFaultType, string, number, abstract new (...args: never[]) => Error]> = [
  ['throttling', 'ThrottlingException', 429, ThrottlingException],
  ['modelNotReady', 'ModelNotReadyException', 429, ModelNotReadyException],
  ['validation', 'ValidationException', 400, ValidationException],
  ['internal', 'InternalServerException', 500, InternalServerException],
  ['serviceUnavailable', 'ServiceUnavailableException', 503, ServiceUnavailableException],
  ['modelTimeout', 'ModelTimeoutException', 408, ModelTimeoutException],
  ['modelError', 'ModelErrorException', 424, ModelErrorException],
  ['accessDenied', 'AccessDeniedException', 403, AccessDeniedException],
];

describe('error faults', () => {
  it.each(errorFaults)('%s → %s (%i) on Converse', async (type, _name, status, ErrorClass) => {
    sim.faults.push({ type });
    const bedrock = client(sim, 'http1');
    const err = await bedrock.send(converse()).catch((e: unknown) => e);
    const after = await bedrock.send(converse());
    bedrock.destroy();
    expect(err).toBeInstanceOf(ErrorClass);
    expect(err).toMatchObject({ $metadata: { httpStatusCode: status } });
    expect(after.$metadata.httpStatusCode).toBe(200);
  });

  it.each(errorFaults)('%s → %s (%i) on ConverseStream over HTTP/2', async (type, _name, status, ErrorClass) => {
    sim.faults.push({ type, message: 'custom words' });
    const bedrock = client(sim, 'http2');
    const err = await bedrock.send(converseStream()).catch((e: unknown) => e);
    bedrock.destroy();
    expect(err).toBeInstanceOf(ErrorClass);
    expect(err).toMatchObject({ message: 'custom words', $metadata: { httpStatusCode: status } });
  });

  it('throttles `times` requests, which the SDK retries through', async () => {
    sim.faults.push({ type: 'throttling', times: 2 });
    const bedrock = client(sim, 'http1', { maxAttempts: 3 });
    const res = await bedrock.send(converse());
    bedrock.destroy();
    expect(res.$metadata.attempts).toBe(3);
    expect(sim.requests.slice(-3).map((r) => r.status)).toEqual([429, 429, 200]);
  });

  it('applies a fault only to the operation and model it names', async () => {
    sim.faults.push({ type: 'internal', operation: 'converse-stream' });
    sim.faults.push({ type: 'throttling', modelId: HAIKU });
    const bedrock = client(sim, 'http1');
    const ok = await bedrock.send(converse());
    const err = await bedrock.send(new ConverseCommand({ modelId: HAIKU, messages: [user('Hi')] })).catch((e: unknown) => e);
    bedrock.destroy();
    expect(ok.$metadata.httpStatusCode).toBe(200);
    expect(err).toBeInstanceOf(ThrottlingException);
    expect(sim.faults.pending()).toEqual([{ type: 'internal', operation: 'converse-stream' }]);
  });

  it('delays a request by delayMs, then answers', async () => {
    sim.faults.push({ type: 'delayMs', ms: 200 });
    const bedrock = client(sim, 'http1');
    const started = Date.now();
    const res = await bedrock.send(converse());
    bedrock.destroy();
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(res.stopReason).toBe('end_turn');
  });

  it('rejects a fault with a bad `times`', () => {
    expect(() => sim.faults.push({ type: 'throttling', times: 0 })).toThrow('fault.times must be a positive integer, got 0');
  });
});

const streamExceptions: Array<[StreamExceptionType, string, abstract new (...args: never[]) => Error]> = [
  ['throttlingException', 'ThrottlingException', ThrottlingException],
  ['modelStreamErrorException', 'ModelStreamErrorException', ModelStreamErrorException],
  ['internalServerException', 'InternalServerException', InternalServerException],
  ['serviceUnavailableException', 'ServiceUnavailableException', ServiceUnavailableException],
  ['validationException', 'ValidationException', ValidationException],
];

describe.each<Transport>(['http2', 'http1'])('mid-stream faults over %s', (transport) => {
  it.each(streamExceptions)('%s is thrown as %s while iterating, after the events before it', async (exception, _name, ErrorClass) => {
    sim.faults.push({ type: 'midStreamException', afterEvents: 3, exception });
    const bedrock = client(sim, transport);
    const res = await bedrock.send(converseStream());
    expect(res.$metadata.httpStatusCode).toBe(200);
    const seen: string[] = [];
    const err = await (async () => {
      for await (const event of res.stream!) seen.push(Object.keys(event)[0]!);
    })().catch((e: unknown) => e);
    bedrock.destroy();
    expect(seen).toEqual(['messageStart', 'contentBlockDelta', 'contentBlockDelta']);
    expect(err).toBeInstanceOf(ErrorClass);
  });

  it('a cut connection fails the iteration instead of ending it quietly', async () => {
    sim.faults.push({ type: 'cut', afterEvents: 2 });
    const bedrock = client(sim, transport);
    const res = await bedrock.send(converseStream());
    const seen: string[] = [];
    const err = await (async () => {
      for await (const event of res.stream!) seen.push(Object.keys(event)[0]!);
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    bedrock.destroy();
    expect(seen).toEqual(['messageStart', 'contentBlockDelta']);
    expect(err).toBeInstanceOf(Error);
    expect(sim.requests.at(-1)).toMatchObject({ status: 200, completed: false, streamEvents: 2 });
  });

  it('stream-only faults wait for a ConverseStream request', async () => {
    sim.faults.push({ type: 'cut', afterEvents: 0 });
    const bedrock = client(sim, transport);
    const ok = await bedrock.send(converse());
    bedrock.destroy();
    expect(ok.$metadata.httpStatusCode).toBe(200);
    expect(sim.faults.pending()).toHaveLength(1);
  });
});
