/**
 * The curl examples in LiteLLM's docs (our contract) carry `# comments` inside their JSON bodies and a
 * trailing comma here and there. Strict JSON rejects them, so a body that fails strict parsing gets one
 * more try with those two things removed. Anything else that is not JSON stays a 400.
 * Only ever runs on bodies that already failed: valid JSON pays nothing.
 */
export function parseLenientJson(text: string): unknown {
  return JSON.parse(stripTrailingCommas(stripHashComments(text)));
}

function stripHashComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      out += char;
      if (char === '\\') {
        out += text[i + 1] ?? '';
        i++;
      } else if (char === '"') {
        inString = false;
      }
    } else if (char === '"') {
      inString = true;
      out += char;
    } else if (char === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else {
      out += char;
    }
  }
  return out;
}

function stripTrailingCommas(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      out += char;
      if (char === '\\') {
        out += text[i + 1] ?? '';
        i++;
      } else if (char === '"') {
        inString = false;
      }
      continue;
    }
    if (char === '"') inString = true;
    if (char === ',') {
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j])) j++;
      if (text[j] === '}' || text[j] === ']') continue;
    }
    out += char;
  }
  return out;
}
