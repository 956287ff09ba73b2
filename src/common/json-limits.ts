import { AppException } from '../errors';

/**
 * How deep and how wide a JSON request body may be. A body within the byte limit can still nest 5,000 arrays
 * in 10 kB: JSON.parse copes, but everything after it recurses (class-transformer, the validation pipe,
 * structured clone to the delivery thread, JSON.stringify) and runs out of stack.
 */
export interface JsonLimits {
  /** Containers inside containers: `{"a": [1]}` is 2 deep. */
  readonly maxDepth: number;
  /** Members of one object, or elements of one array. */
  readonly maxMembers: number;
}

export interface JsonLimitViolation {
  readonly kind: 'depth' | 'members';
  /** Byte offset of the bracket or comma that went past the limit. */
  readonly offset: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;
const HASH = 0x23;
const NEWLINE = 0x0a;

/** Bytes of a string looked at one by one before `indexOf` takes over: below this a native call costs more than it saves. */
const INLINE_STRING_BYTES = 64;

/**
 * One pass over the raw bytes, without parsing: brackets open and close containers, commas separate members,
 * and string contents are skipped (byte by byte while short, then with `indexOf`, which is memchr, so a long
 * message costs almost nothing). UTF-8 never uses bytes below 0x80 inside a multi-byte character, so every
 * structural byte seen is one. `#` comments (which only the lenient retry accepts) are skipped too, so a bracket
 * inside one counts as nothing here either.
 *
 * The bytes need not be valid JSON: for malformed input the answer is a bound, and the parser rejects the body
 * anyway.
 */
export function findJsonLimitViolation(bytes: Buffer, limits: JsonLimits): JsonLimitViolation | null {
  const { maxDepth, maxMembers } = limits;
  // Commas seen so far in the open container at each depth.
  const commas: number[] = [0];
  let depth = 0;
  const length = bytes.length;
  for (let i = 0; i < length; i++) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      const inlineEnd = i + INLINE_STRING_BYTES < length ? i + INLINE_STRING_BYTES : length;
      for (i++; i < inlineEnd; i++) {
        const inner = bytes[i];
        if (inner === QUOTE) break;
        if (inner === BACKSLASH) i++;
      }
      if (i >= inlineEnd && i < length) i = closingQuote(bytes, i);
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > maxDepth) return { kind: 'depth', offset: i };
      commas[depth] = 0;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      if (depth > 0) depth--;
    } else if (byte === COMMA) {
      // n commas separate n + 1 members.
      if (++commas[depth] >= maxMembers) return { kind: 'members', offset: i };
    } else if (byte === HASH) {
      const newline = bytes.indexOf(NEWLINE, i + 1);
      i = newline === -1 ? length : newline;
    }
  }
  return null;
}

/** Index of the first unescaped quote at or after `from` (the end of the bytes if there is none). */
function closingQuote(bytes: Buffer, from: number): number {
  let at = from - 1;
  for (;;) {
    at = bytes.indexOf(QUOTE, at + 1);
    if (at === -1) return bytes.length;
    let backslashes = 0;
    for (let k = at - 1; bytes[k] === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
}

/** Throws the 400 for a body past the limits. */
export function assertJsonWithinLimits(bytes: Buffer, limits: JsonLimits): void {
  const violation = findJsonLimitViolation(bytes, limits);
  if (violation === null) return;
  if (violation.kind === 'depth') {
    throw new AppException(
      'json_too_deep',
      `The request body nests JSON objects and arrays more than ${limits.maxDepth} levels deep (at byte ${violation.offset})`,
    );
  }
  throw new AppException(
    'json_too_many_members',
    `An object or array in the request body has more than ${limits.maxMembers} members (at byte ${violation.offset})`,
  );
}
