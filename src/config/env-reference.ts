/**
 * LiteLLM's `os.environ/NAME` indirection. Gatehouse keeps such strings as written and resolves them only where the
 * value is used, so a secret read from the environment is never copied into stored config or API responses.
 */
export const ENV_REFERENCE_PREFIX = 'os.environ/';

export type EnvReference = `${typeof ENV_REFERENCE_PREFIX}${string}`;

const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isValidEnvName(name: string): boolean {
  return ENV_NAME_PATTERN.test(name);
}

/** True for any string with the prefix, even one whose name is invalid, so callers can report it instead of using it. */
export function isEnvReference(value: unknown): value is EnvReference {
  return typeof value === 'string' && value.startsWith(ENV_REFERENCE_PREFIX);
}

/** The variable name of a well-formed reference; null for plain values and for references with an invalid name. */
export function envReferenceName(value: unknown): string | null {
  if (!isEnvReference(value)) {
    return null;
  }
  const name = value.slice(ENV_REFERENCE_PREFIX.length);
  return isValidEnvName(name) ? name : null;
}

/**
 * Plain values come back unchanged. A reference gives the variable's value, or undefined when the variable is unset
 * or the name is malformed: the literal `os.environ/...` string must never be used as if it were the secret.
 */
export function resolveEnvReference(value: string | null | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (value === null || value === undefined) {
    return undefined;
  }
  if (!isEnvReference(value)) {
    return value;
  }
  const name = envReferenceName(value);
  return name === null ? undefined : env[name];
}
