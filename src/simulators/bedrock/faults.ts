// Faults on demand: tests and the demo queue what the next requests should suffer. A fault applies
// to the first request it fits (after SigV4, so a badly signed request never consumes one) and
// stays queued for `times` requests.
// Names and status codes: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_Errors
import { AwsError, type AwsErrorName } from './errors.js';

export type Operation = 'converse' | 'converse-stream';

/** Exception names ConverseStream can send inside the stream (`:exception-type`). */
export type StreamExceptionType =
  | 'throttlingException'
  | 'validationException'
  | 'internalServerException'
  | 'serviceUnavailableException'
  | 'modelStreamErrorException';

interface FaultBase {
  /** How many requests this fault hits (default 1). */
  times?: number;
  /** Limit the fault to one operation; by default any operation it can apply to. */
  operation?: Operation;
  /** Limit the fault to one model id. */
  modelId?: string;
}

export type ErrorFaultType =
  | 'throttling'
  | 'validation'
  | 'modelNotReady'
  | 'internal'
  | 'serviceUnavailable'
  | 'modelTimeout'
  | 'modelError'
  | 'accessDenied';

export type Fault =
  | (FaultBase & { type: ErrorFaultType; message?: string })
  /** 200, then an exception frame after `afterEvents` event frames. ConverseStream only. */
  | (FaultBase & { type: 'midStreamException'; afterEvents?: number; exception?: StreamExceptionType; message?: string })
  /** 200, then the connection (HTTP/1.1) or stream (HTTP/2) is cut after `afterEvents` frames. ConverseStream only. */
  | (FaultBase & { type: 'cut'; afterEvents?: number })
  /** Wait before answering normally. */
  | (FaultBase & { type: 'delayMs'; ms: number })
  /** Answer normally but wait between event frames. ConverseStream only. */
  | (FaultBase & { type: 'slowStream'; eventDelayMs: number });

const errorFaults: Record<ErrorFaultType, { name: AwsErrorName; message: string }> = {
  throttling: { name: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' },
  validation: { name: 'ValidationException', message: 'Input is too long for requested model.' },
  modelNotReady: { name: 'ModelNotReadyException', message: 'Model is not ready to serve inference requests. Please try again later.' },
  internal: { name: 'InternalServerException', message: 'The system encountered an unexpected error during processing. Try your request again.' },
  serviceUnavailable: { name: 'ServiceUnavailableException', message: 'Bedrock is unable to process your request.' },
  modelTimeout: { name: 'ModelTimeoutException', message: 'Model has timed out in processing the request. Try your request again.' },
  modelError: { name: 'ModelErrorException', message: 'The system encountered an unexpected error during processing. Try your request again.' },
  accessDenied: { name: 'AccessDeniedException', message: "You don't have access to the model with the specified model ID." },
};

export const streamExceptionMessages: Record<StreamExceptionType, string> = {
  throttlingException: 'Too many tokens, please wait before trying again.',
  validationException: 'Input is too long for requested model.',
  internalServerException: 'The system encountered an unexpected error during processing. Try your request again.',
  serviceUnavailableException: 'Bedrock is unable to process your request.',
  modelStreamErrorException: 'The model encountered an error while streaming the response.',
};

export type ErrorFault = Extract<Fault, { type: ErrorFaultType }>;

export const isErrorFault = (fault: Fault): fault is ErrorFault => fault.type in errorFaults;

export const faultError = (fault: ErrorFault) =>
  new AwsError(errorFaults[fault.type].name, fault.message ?? errorFaults[fault.type].message);

const streamOnly = new Set<Fault['type']>(['midStreamException', 'cut', 'slowStream']);

export class FaultQueue {
  private readonly queue: Array<{ fault: Fault; left: number }> = [];

  push(fault: Fault): void {
    const times = fault.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new TypeError(`fault.times must be a positive integer, got ${String(fault.times)}`);
    if (fault.type === 'delayMs' && !(fault.ms >= 0)) throw new TypeError('A delayMs fault needs `ms` ≥ 0.');
    if (fault.type === 'slowStream' && !(fault.eventDelayMs >= 0)) throw new TypeError('A slowStream fault needs `eventDelayMs` ≥ 0.');
    this.queue.push({ fault, left: times });
  }

  clear(): void {
    this.queue.length = 0;
  }

  /** Faults still waiting, in order. */
  pending(): Fault[] {
    return this.queue.map((entry) => entry.fault);
  }

  /** Take the first fault that fits this request, if any. */
  take(operation: Operation, modelId: string): Fault | undefined {
    const index = this.queue.findIndex(({ fault }) => {
      if (fault.operation !== undefined && fault.operation !== operation) return false;
      if (fault.modelId !== undefined && fault.modelId !== modelId) return false;
      return operation === 'converse-stream' || !streamOnly.has(fault.type);
    });
    if (index < 0) return undefined;
    const entry = this.queue[index]!;
    entry.left -= 1;
    if (entry.left === 0) this.queue.splice(index, 1);
    return entry.fault;
  }
}
