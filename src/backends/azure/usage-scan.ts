// The usage object of a stream's usage chunk, read in place in the upstream's bytes: the four
// counts the gateway keeps, without JSON.parse building the object and its two nested ones (their
// keys looked up in V8's string table, a hidden class found per object): JSON.parse was ~18 k
// instructions of a streamed request on Node 20 for the request body and this object (callgrind).
// Bytes, not the event's text: the text is a slice of the whole read's, and TurboFan reads a slice
// a character at a time through a check of the string's representation (the scan over the text
// cost more than the parse).
// Only the shape OpenAI and Azure write is read here: keys without escapes, integer or null values,
// and objects of those one level deep. Anything else (a string, a fraction, an array, a deeper
// object, text that is not JSON) makes the scan give up, and the caller parses the text as before;
// what the scan accepts it reads exactly as normaliseUsage(JSON.parse(text)) does (the tests
// compare the two).
// https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage
import type { Usage } from '../types.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

/** A count gives up past 15 digits: every integer of up to 15 digits is exact in a double. */
const MAX_DIGITS = 15;

/** The keys of usage that are read. */
const OTHER = 0;
const PROMPT = 1;
const OUTPUT = 2;
const PROMPT_DETAILS = 3;
const OUTPUT_DETAILS = 4;

const name = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const PROMPT_TOKENS = name('prompt_tokens');
const COMPLETION_TOKENS = name('completion_tokens');
const PROMPT_TOKENS_DETAILS = name('prompt_tokens_details');
const COMPLETION_TOKENS_DETAILS = name('completion_tokens_details');
const CACHED_TOKENS = name('cached_tokens');
const REASONING_TOKENS = name('reasoning_tokens');
const NONE = new Uint8Array(0);

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** Whether the bytes from `start` to `end` are `name`. */
function named(b: Uint8Array, start: number, end: number, name: Uint8Array): boolean {
  if (end - start !== name.length) return false;
  for (let j = 0; j < name.length; j++) if (b[start + j] !== name[j]) return false;
  return true;
}

/** The usage object at `at` (its `{`) in a chunk's bytes that end at `end`, closed by the chunk's
 * last `}` (usage its last key), as the gateway's Usage; undefined when it is not of the plain shape
 * this reads, or not followed by only that `}`: then parse it.
 *
 * One function over local variables: written as a class of small steps over its fields, the scan
 * cost ~10 k instructions (bench/translator.ts), more than the parse it replaces. */
export function scanUsage(b: Uint8Array, at: number, end: number): Usage | undefined {
  // Bytes are read without checking `end` each time (~20 % of the scan's time): the position only
  // moves forward, and the scan accepts only when it stops before `end` (checked at the close), so
  // nothing it accepted came from past it. Past the buffer a read is undefined, which every test
  // below treats as a byte that does not fit (`!(c >= 0x20)` rather than `c < 0x20`).
  let prompt = 0;
  let output = 0;
  let cached = 0;
  let reasoning = 0;
  // The depth the scan is in: 1 in usage, 2 in an object of counts within it.
  let depth = 1;
  // The usage key whose object the scan is in (at depth 2), and the key in it that is read.
  let outer = OTHER;
  let wanted: Uint8Array = NONE;
  // A details object's count under `wanted` (the last one, as JSON.parse keeps the last of a repeated key).
  let found = 0;
  if (b[at] !== OPEN) return undefined;
  let i = at + 1;
  while (isSpace(b[i]!)) i++;
  let c = b[i]!;
  if (c === CLOSE) {
    depth = 0;
    i++;
  }
  while (depth > 0) {
    // A key: its name without escapes or control characters (else leave it to JSON.parse).
    if (c !== QUOTE) return undefined;
    const keyStart = ++i;
    for (c = b[i]!; c !== QUOTE; c = b[i]!) {
      if (c === BACKSLASH || !(c >= 0x20)) return undefined;
      i++;
    }
    const keyEnd = i++;
    while (isSpace(b[i]!)) i++;
    if (i >= end || b[i] !== COLON) return undefined;
    i++;
    while (isSpace(b[i]!)) i++;
    c = b[i]!;
    // Which of usage's keys it is, when in usage itself.
    const key =
      depth === 2
        ? OTHER
        : named(b, keyStart, keyEnd, PROMPT_TOKENS)
          ? PROMPT
          : named(b, keyStart, keyEnd, COMPLETION_TOKENS)
            ? OUTPUT
            : named(b, keyStart, keyEnd, PROMPT_TOKENS_DETAILS)
              ? PROMPT_DETAILS
              : named(b, keyStart, keyEnd, COMPLETION_TOKENS_DETAILS)
                ? OUTPUT_DETAILS
                : OTHER;
    if (c === OPEN) {
      // An object of counts: read into for the details, scanned past for any other key. One level only.
      if (depth === 2) return undefined;
      depth = 2;
      outer = key;
      wanted = key === PROMPT_DETAILS ? CACHED_TOKENS : key === OUTPUT_DETAILS ? REASONING_TOKENS : NONE;
      found = 0;
      i++;
      while (isSpace(b[i]!)) i++;
      c = b[i]!;
      if (c !== CLOSE) continue;
    } else {
      // A count: an integer (a negative one is 0, as normaliseUsage's `count` has it) or null.
      let count = 0;
      if (c === 0x6e /* n */) {
        if (i + 4 > end || b[i + 1] !== 0x75 || b[i + 2] !== 0x6c || b[i + 3] !== 0x6c) return undefined;
        i += 4;
      } else {
        const negative = c === MINUS;
        if (negative) i++;
        const start = i;
        for (c = b[i]!; c >= ZERO && c <= NINE; c = b[i]!) {
          count = count * 10 + (c - ZERO);
          i++;
        }
        const digits = i - start;
        // No digit, a leading zero before more digits (not JSON), a fraction or an exponent (left to JSON.parse).
        if (digits === 0 || digits > MAX_DIGITS || (digits > 1 && b[start] === ZERO) || c === 0x2e /* . */ || c === 0x65 /* e */ || c === 0x45 /* E */) return undefined;
        if (negative) count = 0;
      }
      if (depth === 2) {
        if (named(b, keyStart, keyEnd, wanted)) found = count;
      } else if (key === PROMPT) prompt = count;
      else if (key === OUTPUT) output = count;
      // Details that are not an object have no count in them.
      else if (key === PROMPT_DETAILS) cached = 0;
      else if (key === OUTPUT_DETAILS) reasoning = 0;
    }
    // After a member (or at an object's close): a comma and the next key, or the close.
    for (;;) {
      while (isSpace(b[i]!)) i++;
      c = b[i++]!;
      if (c === COMMA) {
        while (isSpace(b[i]!)) i++;
        c = b[i]!;
        break;
      }
      if (c !== CLOSE) return undefined;
      depth--;
      if (depth === 0) break;
      // A details object closed: the last of a repeated key wins; a count that is an object is 0.
      if (outer === PROMPT) prompt = 0;
      else if (outer === OUTPUT) output = 0;
      else if (outer === PROMPT_DETAILS) cached = found;
      else if (outer === OUTPUT_DETAILS) reasoning = found;
    }
  }
  // Only whitespace and the chunk's closing brace may follow, and after it spaces or tabs.
  while (isSpace(b[i]!)) i++;
  if (i >= end || b[i] !== CLOSE) return undefined;
  for (let j = i + 1; j < end; j++) if (b[j] !== 0x20 && b[j] !== 0x09) return undefined;
  const cacheRead = Math.min(prompt, cached);
  return { input: prompt - cacheRead, output, cacheRead, cacheWrite: 0, reasoning };
}
