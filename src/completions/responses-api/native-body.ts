import { GATEWAY_ONLY_FIELDS, type RequestBody } from '../request-body';

/**
 * A Responses caller's body as an OpenAI or Azure deployment gets it: the deployment's model, the gateway's own
 * fields left out (as on chat: `metadata` carries the gateway's tags and trace ids, which OpenAI's string-only
 * metadata would refuse). Nothing else changes: no `stream_options`, which the Responses API does not take.
 */
export function nativeBody(body: RequestBody, upstreamModel: string): string {
  const out: RequestBody = {};
  for (const key in body) {
    if (!GATEWAY_ONLY_FIELDS.has(key)) out[key] = body[key];
  }
  out.model = upstreamModel;
  return JSON.stringify(out);
}
