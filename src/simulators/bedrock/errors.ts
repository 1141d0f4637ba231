// AWS-shaped errors for the simulator. Bedrock Runtime is a rest-json (restJson1) service: the error
// name travels in the `x-amzn-ErrorType` header as `<Name>:<namespace>` and the body is
// `{"message": "…"}`. The SDK reads the name from that header, so it must be exact.
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_Errors
// https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html#operation-error-serialization

const BEDROCK_NAMESPACE = 'http://internal.amazon.com/coral/com.amazon.bedrock/';
/** Authentication failures come from the shared AWS front end, not from Bedrock itself. */
const CORAL_NAMESPACE = 'http://internal.amazon.com/coral/com.amazon.coral.service/';

export type AwsErrorName =
  | 'ValidationException'
  | 'AccessDeniedException'
  | 'ResourceNotFoundException'
  | 'ModelTimeoutException'
  | 'ModelErrorException'
  | 'ThrottlingException'
  | 'ModelNotReadyException'
  | 'InternalServerException'
  | 'ServiceUnavailableException'
  | 'UnrecognizedClientException'
  | 'InvalidSignatureException'
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'UnknownOperationException';

const statusByName: Record<AwsErrorName, number> = {
  ValidationException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ModelTimeoutException: 408,
  ModelErrorException: 424,
  ThrottlingException: 429,
  ModelNotReadyException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
  UnrecognizedClientException: 403,
  InvalidSignatureException: 403,
  MissingAuthenticationTokenException: 403,
  IncompleteSignatureException: 403,
  UnknownOperationException: 404,
};

const authNames = new Set<AwsErrorName>([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
  'UnknownOperationException',
]);

export class AwsError extends Error {
  readonly errorName: AwsErrorName;
  readonly status: number;

  constructor(errorName: AwsErrorName, message: string) {
    super(message);
    this.name = 'AwsError';
    this.errorName = errorName;
    this.status = statusByName[errorName];
  }

  /** The `x-amzn-ErrorType` header value. */
  get errorType(): string {
    return `${this.errorName}:${authNames.has(this.errorName) ? CORAL_NAMESPACE : BEDROCK_NAMESPACE}`;
  }

  body(): string {
    return JSON.stringify({ message: this.message });
  }
}

export const validation = (message: string) => new AwsError('ValidationException', message);

/** The wording AWS uses for a field that fails a modelled constraint ("1 validation error detected: …"). */
export const constraintViolation = (value: string | undefined, path: string, constraint: string) =>
  validation(
    `1 validation error detected: Value ${value === undefined ? '' : `'${value}' `}at '${path}' failed to satisfy constraint: ${constraint}`,
  );
