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
  /** The literal runs between the `*`s (the first and last may be empty). */
  private readonly literals: readonly string[];

  constructor(readonly text: string) {
    this.literals = text.split('*');
    this.literalLength = text.length - (this.literals.length - 1);
  }

  /**
   * The text each `*` stood for, or null when the name does not match; each `*` takes as much as it can, left first,
   * as LiteLLM's `(.*)` regex does. Matched without a regex: the names are the caller's, and a backtracking regex of
   * a pattern with several `*`s could be made to take polynomial time.
   */
  match(name: string): string[] | null {
    const literals = this.literals;
    const last = literals.length - 1;
    const head = literals[0];
    const tail = literals[last];
    if (last === 0) return name === head ? [] : null;
    if (name.length < this.literalLength || !name.startsWith(head) || !name.endsWith(tail)) return null;
    // Each middle literal as far right as the ones after it allow: that leaves the `*` before it the most text.
    const starts: number[] = new Array<number>(literals.length);
    starts[last] = name.length - tail.length;
    for (let index = last - 1; index >= 1; index--) {
      const latest = starts[index + 1] - literals[index].length;
      const at = latest < head.length ? -1 : name.lastIndexOf(literals[index], latest);
      if (at < head.length) return null;
      starts[index] = at;
    }
    const segments: string[] = [];
    let from = head.length;
    for (let index = 1; index <= last; index++) {
      segments.push(name.slice(from, starts[index]));
      from = starts[index] + literals[index].length;
    }
    return segments;
  }

  matches(name: string): boolean {
    return this.match(name) !== null;
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
