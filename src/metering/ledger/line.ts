// One ledger record as its JSON line, written field by field. JSON.stringify walks the record
// generically and escapes each of its ~45 keys and string values one by one: ~25 k of the ~475 k
// instructions of a streamed request on Node 20 (callgrind). Here the keys are constants, the
// values that repeat across requests (tenant, route, rule, backend, model names…) keep their
// encoding, and numbers are written as JSON writes them. The text is exactly JSON.stringify's
// (test/metering/ledger-line.test.ts); a record of any other shape is left to JSON.stringify.
import type { LedgerRecord } from './types.js';

/** Encodings of the strings that repeat. Bounded: a client picks its model name, so the set is not
 * closed; once full, new strings are encoded every time instead of kept. */
const ENCODED = new Map<string, string>();
const MAX_ENCODED = 1024;

function repeated(s: string): string {
  let encoded = ENCODED.get(s);
  if (encoded === undefined) {
    encoded = JSON.stringify(s);
    if (ENCODED.size < MAX_ENCODED) ENCODED.set(s, encoded);
  }
  return encoded;
}

const orNull = (s: string | null): string => (s === null ? 'null' : repeated(s));
/** As JSON.stringify writes a number: non-finite ones become null. */
const num = (n: number | null): string => (n !== null && Number.isFinite(n) ? `${n}` : 'null');

const isString = (v: unknown): v is string => typeof v === 'string';
const isStringOrNull = (v: unknown): boolean => v === null || typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';
const isNumberOrNull = (v: unknown): boolean => v === null || typeof v === 'number';

/** Each field of the type LedgerRecord declares (with hasRecordKeys: then the hand-written line is
 * exactly JSON.stringify's). */
function hasRecordShape(r: LedgerRecord): boolean {
  const t = r.tokens;
  return (
    isString(r.requestId) && isString(r.time) && isString(r.tenant) && isString(r.route) && isString(r.rule) && isString(r.backend) &&
    isString(r.provider) && isString(r.kind) && isString(r.operation) && isString(r.modelRequested) && isStringOrNull(r.modelAnswered) &&
    typeof r.stream === 'boolean' && typeof t === 'object' && t !== null && isNumber(t.input) && isNumber(t.output) && isNumber(t.cacheRead) &&
    isNumber(t.cacheWrite) && isNumber(t.reasoning) && isNumberOrNull(r.costUsd) && isNumberOrNull(r.counterfactualCostUsd) &&
    isStringOrNull(r.counterfactualModel) && isNumber(r.latencyMs) && isNumberOrNull(r.ttftMs) && isNumberOrNull(r.upstreamMs) &&
    isNumber(r.status) && isStringOrNull(r.errorType) && isStringOrNull(r.sessionHash) && (r.usageEstimated === undefined || r.usageEstimated === true)
  );
}

const KEYS = [
  'requestId', 'time', 'tenant', 'route', 'rule', 'backend', 'provider', 'kind', 'operation', 'modelRequested', 'modelAnswered', 'stream',
  'tokens', 'costUsd', 'counterfactualCostUsd', 'counterfactualModel', 'latencyMs', 'ttftMs', 'upstreamMs', 'status', 'errorType', 'sessionHash',
];
const TOKEN_KEYS = ['input', 'output', 'cacheRead', 'cacheWrite', 'reasoning'];

/** The record's keys are the meter's, in its order (another order, or an extra key, would make a
 * different text; JSON.stringify writes that one). */
function hasRecordKeys(r: LedgerRecord): boolean {
  const keys = Object.keys(r);
  const n = r.usageEstimated === undefined ? KEYS.length : KEYS.length + 1;
  if (keys.length !== n || (n > KEYS.length && keys[KEYS.length] !== 'usageEstimated')) return false;
  for (let i = 0; i < KEYS.length; i++) if (keys[i] !== KEYS[i]) return false;
  const tokenKeys = Object.keys(r.tokens);
  if (tokenKeys.length !== TOKEN_KEYS.length) return false;
  for (let i = 0; i < TOKEN_KEYS.length; i++) if (tokenKeys[i] !== TOKEN_KEYS[i]) return false;
  return true;
}

/** Whether ledgerLine writes the record by hand (else it is JSON.stringify's). A field added to the
 * meter's records and not here would send every line the slow way: the tests ask this of them. */
export const isWrittenByHand = (r: LedgerRecord): boolean => hasRecordShape(r) && hasRecordKeys(r);

/** Printable ASCII but `"` and `\\`: what JSON.stringify writes as itself in quotes. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** A string JSON.stringify writes as itself in quotes: the request id and the time always are, and
 * a test of their ~60 characters with one compiled regular expression is a fraction of a
 * JSON.stringify call (~1.8 k instructions each, callgrind), and half a loop over their characters
 * (190–231 against 107–112 ns a pair in a micro-benchmark on Node 20). */
function quoted(s: string): string {
  return PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}

/** The record's JSON line (with its "\n"). */
export function ledgerLine(r: LedgerRecord): string {
  if (!isWrittenByHand(r)) return `${JSON.stringify(r)}\n`;
  const t = r.tokens;
  // requestId, time and sessionHash differ on every request: encoded, not kept. Added, not joined:
  // the line is written into the queue's buffer at once (line-queue.ts), so its tree of cons strings
  // dies young. Built and written into a buffer as the queue does (the write flattens the tree), a
  // line cost 2.07–2.34 µs added against 2.17–2.91 µs joined over the ~60 pieces (two runs of a
  // scratch loop, 8 × 500 k lines each, alternating, medians; the join variant with JSON.stringify
  // for the request id and time, as before).
  return (
    '{"requestId":' + quoted(r.requestId) + ',"time":' + quoted(r.time) + ',"tenant":' + repeated(r.tenant) +
    ',"route":' + repeated(r.route) + ',"rule":' + repeated(r.rule) + ',"backend":' + repeated(r.backend) + ',"provider":' + repeated(r.provider) +
    ',"kind":' + repeated(r.kind) + ',"operation":' + repeated(r.operation) + ',"modelRequested":' + repeated(r.modelRequested) +
    ',"modelAnswered":' + orNull(r.modelAnswered) + (r.stream ? ',"stream":true' : ',"stream":false') +
    ',"tokens":{"input":' + num(t.input) + ',"output":' + num(t.output) + ',"cacheRead":' + num(t.cacheRead) + ',"cacheWrite":' + num(t.cacheWrite) +
    ',"reasoning":' + num(t.reasoning) + '},"costUsd":' + num(r.costUsd) + ',"counterfactualCostUsd":' + num(r.counterfactualCostUsd) +
    ',"counterfactualModel":' + orNull(r.counterfactualModel) + ',"latencyMs":' + num(r.latencyMs) + ',"ttftMs":' + num(r.ttftMs) +
    ',"upstreamMs":' + num(r.upstreamMs) + ',"status":' + num(r.status) + ',"errorType":' + orNull(r.errorType) +
    ',"sessionHash":' + (r.sessionHash === null ? 'null' : quoted(r.sessionHash)) + (r.usageEstimated ? ',"usageEstimated":true}\n' : '}\n')
  );
}
