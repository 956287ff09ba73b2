import { realpathSync } from 'node:fs';
import { isAbsolute, resolve, sep } from 'node:path';

/** The environment variable naming the one directory whose files the API may name (e.g. `gcs_path_service_account`). */
export const HOST_FILE_DIR_VARIABLE = 'GCS_SERVICE_ACCOUNT_DIR';

/** A value that is a credential itself (service-account JSON), not a path to one. */
export function isInlineJson(value: string): boolean {
  return value.trimStart().startsWith('{');
}

/**
 * A file path typed into the API is a file read on the gateway's host, so it must name a file inside the directory
 * the operator set aside (`GCS_SERVICE_ACCOUNT_DIR`, already a real path). A relative path is taken inside that
 * directory; `..` and symbolic links are resolved before the check, so neither leads out. Errors never echo the
 * path's target or the file: they say what to do instead.
 */
export function confineHostFilePath(value: string, dir: string | undefined): { path: string } | { error: string } {
  if (dir === undefined) {
    return {
      error:
        `file paths from the API are refused unless the operator sets ${HOST_FILE_DIR_VARIABLE} to the directory that holds ` +
        'service-account files; send the JSON itself (gcs_service_account_json), or an os.environ/NAME reference',
    };
  }
  if (value.includes('\0')) return { error: 'the path contains a NUL character' };
  let real: string;
  try {
    real = realpathSync(isAbsolute(value) ? value : resolve(dir, value));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { error: code === 'ENOENT' || code === 'ENOTDIR' ? `no such file in ${HOST_FILE_DIR_VARIABLE}` : `the file cannot be read (${code ?? 'error'})` };
  }
  if (!real.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`)) {
    return { error: `the path must name a file inside ${HOST_FILE_DIR_VARIABLE} (.. and symbolic links leading out of it are refused)` };
  }
  return { path: real };
}
