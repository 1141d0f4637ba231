// SigV4 verification: re-sign the request exactly as received and compare signatures.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
// The canonical URI is the path as sent (`/model/anthropic.claude-…-v1%3A0/converse`) URI-encoded
// once more (`%253A`): SignatureV4 with `uriEscapePath: true` does exactly that to the raw path,
// so the verifier must hand it the undecoded path, never a router's decoded parameter.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { AwsError } from './errors.js';

export interface SimCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SignedRequest {
  method: string;
  /** Raw request target: path plus query, exactly as received. */
  url: string;
  /** Lower-case header names (HTTP/2 pseudo-headers allowed; `:authority` stands in for `host`). */
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

export interface VerifyOptions {
  region: string;
  service: string;
  credentials: SimCredentials;
  now?: () => number;
}

/** AWS rejects signatures dated more than 5 minutes from its clock. */
const MAX_SKEW_MS = 5 * 60 * 1000;
const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;:!#$%&'*+.^_`|~-]+),\s*Signature=([0-9a-f]{64})$/;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const single = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value.join(',') : value;

/** `20260101T120000Z` → Date, or undefined when malformed. */
function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

const amzDate = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

function safeEqualHex(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Signers cache derived signing keys, so the token-less one is kept per configuration. */
const signers = new WeakMap<VerifyOptions, SignatureV4>();

function signerFor(options: VerifyOptions, sessionToken: string | undefined): SignatureV4 {
  const cached = sessionToken === undefined ? signers.get(options) : undefined;
  if (cached) return cached;
  const signer = new SignatureV4({
    service: options.service,
    region: options.region,
    credentials: { ...options.credentials, ...(sessionToken === undefined ? {} : { sessionToken }) },
    sha256: Sha256,
    uriEscapePath: true,
    applyChecksum: false,
  });
  if (sessionToken === undefined) signers.set(options, signer);
  return signer;
}

/** Throws an AwsError (403) worded like AWS when the request is not signed by the configured key. */
export async function verifySigV4(request: SignedRequest, options: VerifyOptions): Promise<void> {
  const authorization = single(request.headers['authorization']);
  if (!authorization) {
    throw new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const match = AUTH_PATTERN.exec(authorization);
  if (!match) {
    throw new AwsError(
      'IncompleteSignatureException',
      `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization=${authorization.split(' ')[0] ?? ''}`,
    );
  }
  const [, accessKeyId, scopeDate, scopeRegion, scopeService, signedHeaderList, signature] = match as unknown as string[];
  if (accessKeyId !== options.credentials.accessKeyId) {
    throw new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  if (scopeRegion !== options.region) {
    throw new AwsError(
      'InvalidSignatureException',
      `Credential should be scoped to a valid region. (expected '${options.region}', got '${scopeRegion}')`,
    );
  }
  if (scopeService !== options.service) {
    throw new AwsError('InvalidSignatureException', `Credential should be scoped to correct service: '${options.service}'.`);
  }

  const dateHeader = single(request.headers['x-amz-date']);
  const signingDate = dateHeader === undefined ? undefined : parseAmzDate(dateHeader);
  if (!dateHeader || !signingDate) {
    throw new AwsError(
      'IncompleteSignatureException',
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
  }
  if (!dateHeader.startsWith(scopeDate!)) {
    throw new AwsError('InvalidSignatureException', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${dateHeader.slice(0, 8)}'`);
  }
  const now = (options.now ?? Date.now)();
  const skew = signingDate.getTime() - now;
  if (skew < -MAX_SKEW_MS) {
    throw new AwsError(
      'InvalidSignatureException',
      `Signature expired: ${dateHeader} is now earlier than ${amzDate(now - MAX_SKEW_MS)} (${amzDate(now)} - 5 min.)`,
    );
  }
  if (skew > MAX_SKEW_MS) {
    throw new AwsError(
      'InvalidSignatureException',
      `Signature not yet current: ${dateHeader} is still later than ${amzDate(now + MAX_SKEW_MS)} (${amzDate(now)} + 5 min.)`,
    );
  }

  // The declared payload hash is what the signature covers; it must also be the body's hash.
  const declaredHash = single(request.headers['x-amz-content-sha256']);
  if (declaredHash !== undefined && declaredHash !== 'UNSIGNED-PAYLOAD') {
    const actual = request.body.length === 0 ? EMPTY_SHA256 : createHash('sha256').update(request.body).digest('hex');
    if (declaredHash !== actual) {
      throw new AwsError('InvalidSignatureException', 'The provided x-amz-content-sha256 header does not match what was computed.');
    }
  }

  // Rebuild the request from exactly the headers the client says it signed.
  const signedNames = signedHeaderList!.split(';');
  const headers: Record<string, string> = {};
  for (const name of signedNames) {
    const value = single(request.headers[name]) ?? (name === 'host' ? single(request.headers[':authority']) : undefined);
    if (value === undefined) {
      throw new AwsError('InvalidSignatureException', `The request signature we calculated does not match the signature you provided. Signed header '${name}' is missing.`);
    }
    headers[name] = value;
  }
  const queryStart = request.url.indexOf('?');
  const path = queryStart < 0 ? request.url : request.url.slice(0, queryStart);
  const query: Record<string, string | string[]> = {};
  if (queryStart >= 0) {
    for (const [key, value] of new URLSearchParams(request.url.slice(queryStart + 1))) {
      const prior = query[key];
      query[key] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
    }
  }
  // Only a signed token may go to the signer: it adds the header and would sign it.
  const sessionToken = signedNames.includes('x-amz-security-token') ? headers['x-amz-security-token'] : undefined;
  const signer = signerFor(options, sessionToken);
  const resigned = await signer.sign(
    { method: request.method, protocol: 'http:', hostname: headers['host'] ?? '', path, query, headers, body: request.body },
    { signingDate, signableHeaders: new Set(signedNames) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(resigned.headers['authorization'] ?? ''))?.[1] ?? '';
  if (!safeEqualHex(expected, signature!)) {
    throw new AwsError(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
}
