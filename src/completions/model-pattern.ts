/**
 * LiteLLM's model-name wildcards: `*` stands for any run of characters (`*`, `openai/*`, `claude-*`, `fo::*::x::*`).
 * Used by `model_list` names (routing) and by key and team `models` (access).
 */
export function isModelPattern(name: string): boolean {
  return name.includes('*');
}

export class ModelPattern {
  /** Characters other than `*`: the more a pattern spells out, the more specific it is. */
  readonly literalLength: number;
  private readonly regex: RegExp;

  constructor(readonly text: string) {
    this.literalLength = text.replaceAll('*', '').length;
    const body = text
      .split('*')
      .map((literal) => literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('(.*)');
    // `s`: a model name with a newline in it is still one name, and must not slip past the anchors.
    this.regex = new RegExp(`^${body}$`, 's');
  }

  /** The text each `*` stood for, or null when the name does not match. */
  match(name: string): string[] | null {
    const found = this.regex.exec(name);
    return found === null ? null : found.slice(1);
  }

  matches(name: string): boolean {
    return this.regex.test(name);
  }
}

/**
 * The deployment's `model:` for a name a pattern matched, as LiteLLM's router fills it: each `*` of `template` takes
 * the next matched segment (`model_name: "anthropic/*"`, `model: anthropic/*`: `anthropic/claude-x` → `claude-x`). A
 * template without `*` is a fixed model; more segments than the template has `*`s leaves the requested name as it is.
 */
export function fillWildcards(template: string, segments: readonly string[], requested: string): string {
  if (!template.includes('*')) return template;
  const parts = template.split('*');
  if (segments.length > parts.length - 1) return requested;
  let filled = parts[0];
  for (let index = 1; index < parts.length; index++) {
    // LiteLLM leaves a `*` with no segment for it in place; so does this.
    filled += (index - 1 < segments.length ? segments[index - 1] : '*') + parts[index];
  }
  return filled;
}
