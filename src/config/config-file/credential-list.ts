import { describeKind, isMapping, joinPath, readString, type Issues, type Mapping } from './problems';

/**
 * LiteLLM's `credential_list`: named credential sets a deployment takes with `litellm_params.litellm_credential_name`
 * instead of repeating its key and base URL. Read here so such a deployment gets its credentials (rather than
 * starting without them behind a warning).
 */
export function readCredentialList(issues: Issues, value: unknown): ReadonlyMap<string, Mapping> {
  const credentials = new Map<string, Mapping>();
  const path = 'credential_list';
  if (value === null || value === undefined) return credentials;
  if (!Array.isArray(value)) {
    issues.error(path, `must be a list of credentials (each with credential_name and credential_values), got ${describeKind(value)}`);
    return credentials;
  }
  value.forEach((entry, index) => {
    const entryPath = `${path}[${index}]`;
    if (!isMapping(entry)) {
      issues.error(entryPath, `must be a mapping with credential_name and credential_values, got ${describeKind(entry)}`);
      return;
    }
    const name = readString(issues, joinPath(entryPath, 'credential_name'), entry.credential_name);
    const values = entry.credential_values;
    if (!isMapping(values)) {
      issues.error(joinPath(entryPath, 'credential_values'), `must be a mapping of litellm_params (api_key, api_base, ...), got ${describeKind(values)}`);
      return;
    }
    if (name === undefined) return;
    if (credentials.has(name)) {
      issues.error(joinPath(entryPath, 'credential_name'), `duplicate credential \`${name}\``);
      return;
    }
    credentials.set(name, values);
  });
  return credentials;
}

/**
 * The deployment's `litellm_params` with its named credential's values under them (a value the deployment sets
 * itself wins), and without `litellm_credential_name`, which has then done its work.
 */
export function withCredential(issues: Issues, path: string, params: Mapping, credentials: ReadonlyMap<string, Mapping>): Mapping {
  const name = params.litellm_credential_name;
  if (name === undefined || name === null) return params;
  const namePath = joinPath(path, 'litellm_credential_name');
  if (typeof name !== 'string') {
    issues.error(namePath, `must be the name of a credential_list entry, got ${describeKind(name)}`);
    return params;
  }
  const values = credentials.get(name);
  if (values === undefined) {
    const known = [...credentials.keys()];
    issues.error(namePath, `refers to credential \`${name}\`, which credential_list does not define${known.length > 0 ? ` (defined: ${known.join(', ')})` : ''}`);
    return params;
  }
  const { litellm_credential_name: _used, ...own } = params;
  return { ...values, ...own };
}
