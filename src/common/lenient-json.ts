import { assertJsonWithinLimits, type JsonLimits } from './json-limits';

/**
 * The curl examples in LiteLLM's docs (our contract) carry `# comments` inside their JSON bodies and a
 * trailing comma here and there. Strict JSON rejects them, so a body that fails strict parsing gets one
 * more try with those two things removed. Anything else that is not JSON stays a 400.
 * Only ever runs on bodies that already failed: valid JSON pays nothing. What it would parse is held to the
 * same depth and member limits as a strict body (an AppException when past them).
 */
export function parseLenientJson(text: string, limits: JsonLimits): unknown {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') {
      const end = endOfString(text, i);
      out += text.slice(i, end);
      i = end - 1;
    } else if (char === '#') {
      i = endOfComment(text, i) - 1;
    } else if (char === ',' && /[}\]]/.test(text[nextSignificant(text, i + 1)] ?? '')) {
      // A trailing comma: dropped.
    } else {
      out += char;
    }
  }
  assertJsonWithinLimits(Buffer.from(out, 'utf8'), limits);
  return JSON.parse(out);
}

/** Index just past the string literal that starts at `start` (escapes honoured; an unterminated one runs to the end). */
function endOfString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i + 1;
  }
  return text.length;
}

function endOfComment(text: string, start: number): number {
  const newline = text.indexOf('\n', start);
  return newline === -1 ? text.length : newline;
}

/** The next index holding something other than whitespace or a comment. */
function nextSignificant(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    if (/\s/.test(text[i])) i++;
    else if (text[i] === '#') i = endOfComment(text, i);
    else break;
  }
  return i;
}
