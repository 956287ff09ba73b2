import type { SecretRedactor } from '../../common/secret-redactor';
import { AppException } from '../../errors';
import type { CompiledDeployment } from '../deployment-table';
import { requestFailure } from '../upstream-errors';
import { askUpstream } from '../upstream-forwarder';

/** A stored response is one JSON object; far larger than any is not read into memory. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/**
 * Asks the deployment that made a response for it (`GET`) or to delete it (`DELETE`), and answers with the
 * upstream's JSON as it came. A failure is an AppException worded as the chat path words it (the upstream's text
 * redacted; its 401/403 a 502, the caller's key being fine).
 */
export async function askStoredResponse(deployment: CompiledDeployment, id: string, method: 'GET' | 'DELETE', redactor: SecretRedactor): Promise<Buffer> {
  const target = deployment.target;
  if (target?.storedResponse === undefined || deployment.pool === null) {
    throw new AppException('not_found', `Response with id '${id}' not found.`, { param: 'response_id' });
  }
  let request: Awaited<ReturnType<typeof target.storedResponse>>;
  try {
    request = await target.storedResponse(id);
  } catch (error) {
    // A token the identity provider refused: worded as on the chat path.
    throw requestFailure(error, deployment.providerLabel, redactor).exception;
  }
  // No body: the content type the deployment's POSTs carry would describe nothing.
  const headers: Record<string, string> = { ...request.headers };
  delete headers['content-type'];
  return askUpstream(deployment, { method, path: request.path, headers }, redactor, MAX_ANSWER_BYTES);
}
