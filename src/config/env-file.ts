import { resolve } from 'node:path';

export const DEFAULT_ENV_FILE = '.env';

export class EnvFileError extends Error {}

export interface LoadedEnvFile {
  readonly path: string;
  /** The variables the file set: those the environment did not already have. Names only, never values. */
  readonly names: readonly string[];
}

/**
 * Loads `ENV_FILE`, else `.env` in the working directory, into `process.env` with Node's own parser
 * (`process.loadEnvFile`, the `--env-file` format). A variable already in the environment keeps its value, so a
 * deployment's real settings always win over a file left in the directory. A missing `.env` is normal (null); a
 * file the operator named, or one that exists but cannot be read, stops start-up.
 *
 * Runs before the environment is read, so everything reads the file's values: the gateway's settings, `os.environ/`
 * references, provider and destination variables. Not the variables Node reads as it starts (`NODE_OPTIONS`,
 * `NODE_EXTRA_CA_CERTS`): those belong in the real environment.
 */
export function loadEnvFile(): LoadedEnvFile | null {
  const named = process.env.ENV_FILE?.trim() || undefined;
  const path = resolve(named ?? DEFAULT_ENV_FILE);
  const before = new Set(Object.keys(process.env));
  try {
    process.loadEnvFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'ENOENT' && named === undefined) return null;
    throw new EnvFileError(`Cannot read the environment file ${path}${named === undefined ? '' : ' (ENV_FILE)'}: ${code}`);
  }
  return { path, names: Object.keys(process.env).filter((name) => !before.has(name)).sort() };
}
