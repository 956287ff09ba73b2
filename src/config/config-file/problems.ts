import { Document, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, Tags } from 'yaml';
import { readFlag } from '../../logging/privacy/privacy-settings';
import { envReferenceName, isEnvReference } from '../env-reference';
import type { ConfigIssue } from '../gateway-config.types';

/**
 * What every section reader shares: the one problem collector (`Issues`, with the YAML line of each path), typo
 * detection for keys, and readers for the value kinds config.yaml holds. A reader reports and returns undefined;
 * it never throws, so one pass reports every problem of the file.
 */

// YAML positions

/**
 * PyYAML differs from the yaml package's 1.1 schema in two ways that matter for LiteLLM files: it keeps `y`/`n` as
 * strings, and turns dates into objects that LiteLLM later `str()`s back. Narrowing the booleans and dropping the
 * timestamp tag gives the same strings.
 */
export function pyYamlCompatibleTags(tags: Tags): Tags {
  return tags
    .filter((tag) => typeof tag === 'string' || tag.tag !== 'tag:yaml.org,2002:timestamp')
    .map((tag) => {
      if (typeof tag === 'string' || tag.tag !== 'tag:yaml.org,2002:bool' || !('test' in tag) || !tag.test) {
        return tag;
      }
      const isTrue = tag.test.test('true');
      return { ...tag, test: isTrue ? /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/ : /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/ };
    });
}

/** Maps dotted key paths to 1-based lines by walking the YAML AST, since plain JS values have no positions. */
export class PositionIndex {
  private readonly lines = new Map<string, number>();
  private readonly keyOffsets = new Map<number, string>();
  readonly unresolvedAliases: number[] = [];

  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
  ) {
    this.walk(doc.contents, '');
  }

  /** The line of the path, or of its nearest ancestor that has one (keys pulled in by `<<:` or an alias have none). */
  lineOf(path: string): number | null {
    for (let current: string | null = path; current !== null; current = parentPath(current)) {
      const line = this.lines.get(current);
      if (line !== undefined) {
        return line;
      }
    }
    return null;
  }

  pathAt(offset: number): string | null {
    return this.keyOffsets.get(offset) ?? null;
  }

  private record(path: string, range: readonly number[] | null | undefined): void {
    if (range && !this.lines.has(path)) {
      this.lines.set(path, this.lineCounter.linePos(range[0]).line);
    }
  }

  private walk(node: unknown, path: string): void {
    if (isAlias(node)) {
      if (node.resolve(this.doc) === undefined && node.range) {
        this.unresolvedAliases.push(node.range[0]);
      }
      return;
    }
    if (isMap(node)) {
      this.record(path, node.range);
      for (const pair of node.items) {
        if (!isPair(pair)) {
          continue;
        }
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (key === '<<') {
          continue;
        }
        const child = joinPath(path, key);
        const keyRange = isScalar(pair.key) ? pair.key.range : null;
        if (keyRange) {
          // A repeated key overwrites: its value is the one toJS keeps, so its line is the one to report.
          this.lines.set(child, this.lineCounter.linePos(keyRange[0]).line);
          this.keyOffsets.set(keyRange[0], child);
        }
        this.walk(pair.value, child);
      }
      return;
    }
    if (isSeq(node)) {
      this.record(path, node.range);
      node.items.forEach((item, index) => {
        const child = `${path}[${index}]`;
        if (isScalar(item) || isMap(item) || isSeq(item) || isAlias(item)) {
          this.record(child, item.range);
        }
        this.walk(item, child);
      });
      return;
    }
    if (isScalar(node)) {
      this.record(path, node.range);
    }
  }
}

export function joinPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

export function parentPath(path: string): string | null {
  if (path === '') {
    return null;
  }
  const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  return cut <= 0 ? '' : path.slice(0, cut);
}

export class Issues {
  readonly errors: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];

  constructor(private readonly positions: PositionIndex) {}

  error(path: string, message: string, line?: number): void {
    this.errors.push({ path, line: line ?? this.positions.lineOf(path), message });
  }

  warn(path: string, message: string, line?: number): void {
    this.warnings.push({ path, line: line ?? this.positions.lineOf(path), message });
  }

  sortedErrors(): ConfigIssue[] {
    return byLine(this.errors);
  }

  sortedWarnings(): ConfigIssue[] {
    return byLine(this.warnings);
  }
}

export function byLine(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
}

// Typo detection

/** Optimal-string-alignment distance: Levenshtein plus adjacent swaps, so `sucess`/`scucess` both count as one. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[rows - 1][cols - 1];
}

export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/-/g, '_');
}

/** Short keys get no slack: at three letters almost every other key is "one edit away". */
export function closestKey(key: string, candidates: readonly string[]): string | undefined {
  const normalized = normalizeKey(key);
  const budget = normalized.length <= 3 ? 0 : normalized.length <= 7 ? 1 : 2;
  let best: { key: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(normalized, candidate);
    if (distance <= budget && (best === undefined || distance < best.distance)) {
      best = { key: candidate, distance };
    }
  }
  return best?.key;
}

/** Returns true when the key was a fatal near miss. */
export function reportUnknownKey(issues: Issues, path: string, key: string, candidates: readonly string[], where: string): boolean {
  const suggestion = closestKey(key, candidates);
  if (suggestion !== undefined) {
    issues.error(path, `unknown key; did you mean \`${suggestion}\`?`);
    return true;
  }
  issues.warn(path, `unknown key in ${where}; ignored`);
  return false;
}

// Value helpers

export type Mapping = Record<string, unknown>;

export function isMapping(value: unknown): value is Mapping {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return false;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function describeKind(value: unknown): string {
  if (value === null || value === undefined) {
    return 'nothing';
  }
  if (Array.isArray(value)) {
    return 'a list';
  }
  if (isMapping(value)) {
    return 'a mapping';
  }
  return `a ${typeof value}`;
}

export function readMapping(issues: Issues, path: string, value: unknown, what: string): Mapping | undefined {
  if (value === null || value === undefined) {
    return {};
  }
  if (!isMapping(value)) {
    issues.error(path, `must be ${what}, got ${describeKind(value)}`);
    return undefined;
  }
  return value;
}

/** `os.envrion/X`, `os.env/X`, `OS.ENVIRON/X`: meant as a reference, and otherwise taken as the literal value. */
const NEAR_ENV_REFERENCE = /^os\.?env[a-z_]*\//i;

export function checkEnvReference(issues: Issues, path: string, value: string): void {
  if (isEnvReference(value) && envReferenceName(value) === null) {
    issues.error(path, `\`${value}\` is not a valid os.environ/ reference: the name must match [A-Za-z_][A-Za-z0-9_]*`);
  } else if (!isEnvReference(value) && NEAR_ENV_REFERENCE.test(value)) {
    issues.error(path, `\`${value.slice(0, value.indexOf('/') + 1)}\` looks like a misspelt \`os.environ/\` reference`);
  }
}

export function readString(issues: Issues, path: string, value: unknown, hint = ''): string | undefined {
  if (value === undefined) {
    issues.error(path, 'missing: must be a non-empty string');
    return undefined;
  }
  if (typeof value !== 'string' || value.trim() === '') {
    issues.error(path, `must be a non-empty string, got ${value === '' ? 'an empty string' : describeKind(value)}${hint}`);
    return undefined;
  }
  checkEnvReference(issues, path, value);
  return value;
}

/** LiteLLM users write `success_callback: langfuse` as often as the list form, and LiteLLM accepts both. */
export function readStringList(issues: Issues, path: string, value: unknown): string[] {
  if (value === null || value === undefined) {
    return [];
  }
  if (typeof value === 'string') {
    return readString(issues, path, value) === undefined ? [] : [value];
  }
  if (!Array.isArray(value)) {
    issues.error(path, `must be a list of strings, got ${describeKind(value)}`);
    return [];
  }
  const out: string[] = [];
  value.forEach((item, index) => {
    const itemPath = `${path}[${index}]`;
    if (readString(issues, itemPath, item) !== undefined) {
      out.push(item as string);
    }
  });
  return out;
}

export function readBoolean(issues: Issues, path: string, value: unknown): boolean | undefined {
  if (typeof value !== 'boolean') {
    issues.error(path, `must be true or false, got ${describeKind(value)}`);
    return undefined;
  }
  return value;
}

/** A privacy switch: `"true"` / `"false"` pass as well, as they do through LiteLLM's pydantic models. */
export function readSwitch(issues: Issues, path: string, value: unknown): boolean | undefined {
  return typeof value === 'string' && readFlag(value) !== undefined ? readFlag(value) : readBoolean(issues, path, value);
}

/** Numeric strings pass, as they do through LiteLLM's pydantic models; `os.environ/` does not, numbers are not secrets. */
export function readNumber(
  issues: Issues,
  path: string,
  value: unknown,
  rule: { integer?: boolean; positive?: boolean },
): number | undefined {
  const parsed =
    typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  const wanted = `a ${rule.positive ? 'positive' : 'non-negative'} ${rule.integer ? 'integer' : 'number'}`;
  if (!Number.isFinite(parsed) || (rule.integer && !Number.isInteger(parsed)) || parsed < 0 || (rule.positive && parsed === 0)) {
    const extra = isEnvReference(value) ? ' (os.environ/ references are supported only for string settings)' : '';
    issues.error(path, `must be ${wanted}, got ${typeof value === 'number' ? String(value) : describeKind(value)}${extra}`);
    return undefined;
  }
  return parsed;
}

export function scalarToString(value: unknown): string | undefined {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  return undefined;
}
