import type { SecretRedactor } from '../../common/secret-redactor';
import { AppException } from '../../errors';
import type { CompiledDeployment } from '../deployment-table';
import { failureFromStatus, failureFromTransport } from '../upstream-errors';

/** A stored response is one JSON object; far larger than any is not read into memory. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/**
 * Asks the deployment that made a response for it (`GET`) or to delete it (`DELETE`), and answers with the
 * upstream's JSON as it came. A failure is an AppException worded as the chat path words it (the upstream's text
 * redacted; its 401/403 a 502, the caller's key being fine).
 */
export async function askStoredResponse(deployment: CompiledDeployment, id: string, method: 'GET' | 'DELETE', redactor: SecretRedactor): Promise<Buffer> {
  const provider = deployment.providerLabel;
  const target = deployment.target;
  if (target?.storedResponse === undefined || deployment.pool === null) {
    throw new AppException('not_found', `Response with id '${id}' not found.`, { param: 'response_id' });
  }
  let request: { path: string; headers: Readonly<Record<string, string>> };
  let upstream;
  try {
    const prepared = target.storedResponse(id);
    request = prepared instanceof Promise ? await prepared : prepared;
    const headers: Record<string, string> = { ...request.headers };
    delete headers['content-type'];
    upstream = await deployment.pool.request({ path: request.path, method, headers, headersTimeout: deployment.timeoutMs, bodyTimeout: deployment.timeoutMs });
  } catch (error) {
    throw failureFromTransport({ error, provider, timeoutMs: deployment.timeoutMs }).exception;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of upstream.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_ANSWER_BYTES) {
      upstream.body.destroy();
      throw new AppException('upstream_error', `${provider} upstream answer was larger than ${MAX_ANSWER_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  const bytes = Buffer.concat(chunks);
  if (upstream.statusCode >= 200 && upstream.statusCode < 300) return bytes;
  const contentType = upstream.headers['content-type'];
  throw failureFromStatus({
    status: upstream.statusCode,
    retryAfter: undefined,
    contentType: Array.isArray(contentType) ? contentType[0] : contentType,
    body: bytes.subarray(0, 64 * 1024).toString('utf8'),
    provider,
    redactor,
  }).exception;
}
