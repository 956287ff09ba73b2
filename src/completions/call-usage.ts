import { readUsage, type TokenUsage } from './usage';

/**
 * The top-level `usage` object of a JSON answer, parsed on its own. Spend and rate limits need it for every call,
 * logged or not, and it is the answer's last member in every OpenAI-format answer: an embeddings answer is mostly
 * vectors, a long completion mostly text, neither worth parsing for a few numbers. Undefined when the answer does
 * not end that way; the caller then parses the whole answer.
 */
export function trailingUsage(bytes: Buffer): unknown {
  const at = bytes.lastIndexOf('"usage"');
  if (at < 0) return undefined;
  let start = skipSpace(bytes, at + 7);
  if (bytes[start] !== 0x3a /* : */) return undefined;
  start = skipSpace(bytes, start + 1);
  if (bytes[start] !== 0x7b /* { */) return undefined;
  const end = closingIndex(bytes, start);
  // What follows must close exactly the top-level object, or `usage` was some nested object's member.
  if (end < 0 || depthChange(bytes, end + 1) !== -1) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8', start, end + 1)) as unknown;
  } catch {
    return undefined;
  }
}

function skipSpace(bytes: Buffer, from: number): number {
  let i = from;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  return i;
}

/** Index of the `}` closing the object opened at `open`, skipping strings; -1 when it does not close. */
function closingIndex(bytes: Buffer, open: number): number {
  let depth = 0;
  for (let i = open; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === 0x22 /* " */) i = stringEnd(bytes, i);
    else if (byte === 0x7b /* { */ || byte === 0x5b /* [ */) depth++;
    else if (byte === 0x7d /* } */ || byte === 0x5d /* ] */) {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** Opened minus closed objects and arrays from `from` to the end, skipping strings. */
function depthChange(bytes: Buffer, from: number): number {
  let depth = 0;
  for (let i = from; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === 0x22) i = stringEnd(bytes, i);
    else if (byte === 0x7b || byte === 0x5b) depth++;
    else if (byte === 0x7d || byte === 0x5d) depth--;
  }
  return depth;
}

function stringEnd(bytes: Buffer, quote: number): number {
  for (let i = quote + 1; i < bytes.length; i++) {
    if (bytes[i] === 0x5c /* \ */) i++;
    else if (bytes[i] === 0x22) return i;
  }
  return bytes.length;
}

/**
 * The usage a stream reported: its usage chunk is one of the last events (OpenAI sends it after the final choice;
 * translated providers too). Undefined when none of them carries one: the caller assembles the stream (and
 * estimates what an abandoned stream used).
 */
export function streamUsage(dataEvents: readonly string[]): TokenUsage | undefined {
  for (let i = dataEvents.length - 1; i >= 0 && i >= dataEvents.length - 3; i--) {
    const data = dataEvents[i];
    if (!data.includes('"usage"')) continue;
    try {
      const usage = readUsage((JSON.parse(data) as { usage?: unknown } | null)?.usage);
      if (usage !== null) return usage;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
