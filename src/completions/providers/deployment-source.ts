import { envReferenceName, isEnvReference } from '../../config/env-reference';
import type { ModelDeployment } from '../../config/gateway-config.types';

/**
 * One `model_list` entry as a provider reads it at boot. Every string is resolved from `os.environ/NAME` here (an
 * unset variable is a problem naming the setting and the variable), each setting read is marked used so the ones
 * nobody reads can be named in a start-up warning, and problems are collected rather than thrown, so one start-up
 * error lists every deployment's mistakes at once.
 */
export class DeploymentSource {
  readonly label: string;
  private readonly read = new Set<string>(['model']);

  constructor(
    readonly index: number,
    readonly entry: ModelDeployment,
    /** The `model:` prefix as written (`azure`, `ollama_chat`, ...). */
    readonly prefix: string,
    /** The `model:` value without its prefix. */
    readonly upstreamModel: string,
    readonly env: NodeJS.ProcessEnv,
    private readonly problems: string[],
  ) {
    this.label = `model_list[${index}] (${entry.model_name})`;
  }

  /** Records a problem that stops start-up. */
  problem(message: string): void {
    this.problems.push(`${this.label}: ${message}`);
  }

  has(name: string): boolean {
    const value = this.entry.litellm_params[name];
    return value !== undefined && value !== null;
  }

  /** The raw value, marked used. */
  raw(name: string): unknown {
    this.read.add(name);
    return this.entry.litellm_params[name];
  }

  /**
   * A string setting with `os.environ/` resolved, else the first of `fallbackEnv` that is set (LiteLLM's default
   * variables, e.g. ANTHROPIC_API_KEY). Undefined when neither gives a value; a reference to an unset variable is a
   * problem (it is a typo or a missing secret, never "no value").
   */
  string(name: string, fallbackEnv: readonly string[] = []): string | undefined {
    const value = this.raw(name);
    if (value === undefined || value === null) {
      for (const variable of fallbackEnv) {
        const fromEnv = this.env[variable];
        if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv;
      }
      return undefined;
    }
    if (typeof value !== 'string') {
      this.problem(`litellm_params.${name} must be a string`);
      return undefined;
    }
    return this.resolve(name, value);
  }

  /** `value` with an `os.environ/NAME` reference resolved; an unset variable is a problem naming `path` (under litellm_params). */
  resolve(path: string, value: string): string | undefined {
    if (!isEnvReference(value)) return value;
    const variable = envReferenceName(value);
    const resolved = variable === null ? undefined : this.env[variable];
    if (resolved === undefined || resolved.trim() === '') {
      this.problem(`litellm_params.${path} refers to the environment variable ${variable ?? value}, which is not set`);
      return undefined;
    }
    return resolved;
  }

  /** Like `string`, but its absence is a problem naming the setting and the variables that would do. */
  required(name: string, fallbackEnv: readonly string[], what: string): string {
    const value = this.string(name, fallbackEnv);
    if (value === undefined && !this.problemRecordedFor(name)) {
      const variables = fallbackEnv.length > 0 ? ` or the environment variable ${fallbackEnv.join(' / ')}` : '';
      this.problem(`${what} is missing: set litellm_params.${name}${variables}`);
    }
    return value ?? '';
  }

  /**
   * A number setting. Config validation checked literal values; a string is an `os.environ/` reference (LiteLLM
   * resolves them in numeric settings too) or a placeholder left in the file (`<your-temp>`), a problem either way
   * unless it reads as a number. A variable's value is never quoted back: it may be a secret set in the wrong place.
   */
  number(name: string): number | undefined {
    const value = this.raw(name);
    if (typeof value === 'string') {
      const text = this.resolve(name, value);
      if (text === undefined) return undefined;
      const parsed = text.trim() === '' ? NaN : Number(text);
      if (!Number.isFinite(parsed)) {
        const written = isEnvReference(value) ? `${value}, whose value is not a number` : JSON.stringify(value);
        this.problem(`litellm_params.${name} must be a number, got ${written}`);
        return undefined;
      }
      return parsed;
    }
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  }

  /** Settings nobody read, in config order: named in a start-up warning. */
  unread(): string[] {
    return Object.keys(this.entry.litellm_params).filter((name) => !this.read.has(name));
  }

  private problemRecordedFor(name: string): boolean {
    const prefix = `${this.label}: litellm_params.${name} `;
    return this.problems.some((problem) => problem.startsWith(prefix));
  }
}
