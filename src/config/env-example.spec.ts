import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

/*
 * `.env.example` is what `cp .env.example .env` gives a new operator: it must parse as the gateway will read it, and
 * name every variable the example config.yaml references, set or commented out with the reason.
 */
const ROOT = join(__dirname, '..', '..');
const EXAMPLE = readFileSync(join(ROOT, '.env.example'), 'utf8');

/** `NAME=` lines, active or commented out (`# NAME=...`). */
function namedVariables(text: string): Set<string> {
  return new Set([...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]));
}

describe('.env.example', () => {
  it('parses with the parser the gateway uses, and sets only placeholders', () => {
    const active = parseEnv(EXAMPLE);
    expect(Object.keys(active).sort()).toEqual(['LANGFUSE_PUBLIC_KEY', 'LANGFUSE_SECRET_KEY']);
    for (const value of Object.values(active)) expect(value).toMatch(/placeholder/);
  });

  it("names every os.environ/ variable of the example config.yaml, and the gateway's own secrets", () => {
    const config = readFileSync(join(ROOT, 'config.yaml'), 'utf8').replace(/^\s*#.*$/gm, '');
    const referenced = [...config.matchAll(/os\.environ\/([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1]);
    expect(referenced.length).toBeGreaterThan(0);
    const named = namedVariables(EXAMPLE);
    for (const variable of [...referenced, 'MASTER_KEY', 'SALT_KEY', 'GCS_SERVICE_ACCOUNT']) expect([variable, named.has(variable)]).toEqual([variable, true]);
  });
});
