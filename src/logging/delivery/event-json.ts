import { randomBytes } from 'node:crypto';

/*
 * Each event's JSON, serialised once for all its destinations. The events of one call share one payload object in
 * the delivery thread (mask-events.ts), so its large parts (the messages, the answer, the metadata) are keyed by
 * object identity: the first destination to serialise one keeps the text, and every other body that holds the same
 * object (a Langfuse trace and generation, the OTLP attributes, the GCS line) splices that text in instead of
 * serialising it again. Payload objects are not mutated once handed to the destinations, which is what makes a kept
 * text stay equal to `JSON.stringify` of its object. Only large texts are kept: for a short message, splicing and the
 * WeakMap entry (which the garbage collector pays for) cost more than serialising it again (measured with
 * bench/destination-cost.js langfuse,gcs,otel).
 */

/** Texts shorter than this are not kept. */
export const SHARED_JSON_MIN_CHARS = 2048;

const known = new WeakMap<object, string>();
// Per process and unguessable: a string in an event cannot imitate a placeholder.
const PLACEHOLDER = `gatehouse-json-${randomBytes(12).toString('hex')}-`;

/** `JSON.stringify(value)`, kept for the next caller that serialises the same object. Throws as it does. */
export function jsonOf(value: object): string {
  let text = known.get(value);
  if (text === undefined) {
    text = jsonReusing(value);
    if (text.length >= SHARED_JSON_MIN_CHARS) known.set(value, text);
  }
  return text;
}

/**
 * Serialises and keeps the value's JSON ahead of the bodies that will hold it, when it may be long enough to be kept
 * (a bounded look at its strings first, so short values are not serialised one extra time). Returns whether a text
 * is kept. Never throws: a value that cannot be serialised is left to the destination's own serialisation to report.
 */
export function shareJson(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (known.has(value)) return true;
  if (stringChars(value, 0, 0) < SHARED_JSON_MIN_CHARS) return false;
  try {
    return jsonOf(value).length >= SHARED_JSON_MIN_CHARS;
  } catch {
    return false;
  }
}

/** The length of the string values in `value`, stopping once it reaches the threshold or 8 levels deep. */
function stringChars(value: unknown, level: number, sum: number): number {
  if (typeof value === 'string') return sum + value.length;
  if (value === null || typeof value !== 'object' || level > 8) return sum;
  const items = Array.isArray(value) ? (value as unknown[]) : Object.values(value);
  for (let i = 0; i < items.length && sum < SHARED_JSON_MIN_CHARS; i++) sum = stringChars(items[i], level + 1, sum);
  return sum;
}

/** Like `jsonOf`, for a value that may be a primitive or absent (`undefined` stays `undefined`, as JSON.stringify's). */
export function jsonOfValue(value: unknown): string | undefined {
  return value !== null && typeof value === 'object' ? jsonOf(value) : JSON.stringify(value);
}

/**
 * `JSON.stringify(value)`, byte for byte, with every own property whose value already has a kept text spliced in
 * rather than serialised again. Only the top level is looked at: the large parts are the direct properties of the
 * bodies the destinations build.
 */
export function jsonReusing(value: object): string {
  if (Array.isArray(value) || typeof (value as { toJSON?: unknown }).toJSON === 'function') return JSON.stringify(value);
  let copy: Record<string, unknown> | undefined;
  const texts: string[] = [];
  for (const key of Object.keys(value)) {
    const property = (value as Record<string, unknown>)[key];
    if (property === null || typeof property !== 'object') continue;
    const text = known.get(property);
    if (text === undefined) continue;
    copy ??= { ...value };
    copy[key] = PLACEHOLDER + texts.length;
    texts.push(text);
  }
  if (copy === undefined) return JSON.stringify(value);
  const outline = JSON.stringify(copy);
  // The placeholders appear in key order, each once, as JSON strings of plain ASCII (no escaping).
  let out = '';
  let from = 0;
  for (let i = 0; i < texts.length; i++) {
    const quoted = `"${PLACEHOLDER}${i}"`;
    const at = outline.indexOf(quoted, from);
    out += outline.slice(from, at) + texts[i];
    from = at + quoted.length;
  }
  return out + outline.slice(from);
}

/** A JSON string value that `fillPlaceholders` replaces by the text registered for `n`. */
export function placeholder(n: number): string {
  return PLACEHOLDER + n;
}

const QUOTED_PLACEHOLDER = new RegExp(`"${PLACEHOLDER}(\\d+)"`, 'g');

/** Replaces each quoted `placeholder(n)` in a JSON text by `textFor(n)` (left as it is if there is none). */
export function fillPlaceholders(json: string, textFor: (n: number) => string | undefined): string {
  return json.replace(QUOTED_PLACEHOLDER, (quoted: string, n: string) => textFor(Number(n)) ?? quoted);
}
