import { isValidEnvName } from '../env-reference';
import { describeKind, Issues, joinPath, readMapping, scalarToString } from './problems';

/** config.yaml's `environment_variables`: NAME: value pairs set before anything reads the environment. */

export function readEnvironmentVariables(issues: Issues, value: unknown): Record<string, string> {
  const path = 'environment_variables';
  const section = readMapping(issues, path, value, 'a mapping of NAME: value');
  if (section === undefined) {
    return {};
  }
  const out: Array<[string, string]> = [];
  for (const [name, raw] of Object.entries(section)) {
    const keyPath = joinPath(path, name);
    const text = scalarToString(raw);
    if (text === undefined) {
      issues.error(keyPath, `must be a string, number or boolean, got ${describeKind(raw)}`);
      continue;
    }
    if (!isValidEnvName(name)) {
      issues.warn(keyPath, 'not a valid environment variable name, so no os.environ/ reference can reach it');
    }
    out.push([name, text]);
  }
  return Object.fromEntries(out);
}
