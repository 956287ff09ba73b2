import type { CorsOptions, CorsOptionsDelegate } from '@nestjs/common/interfaces/external/cors-options.interface';
import type { Request } from 'express';
import { ANY_ORIGIN } from '../config/cors-origins';
import { allRateLimitHeaderNames } from '../rate-limits/rate-limits.service';
import { REQUEST_ID_HEADER } from './request-context';

/** How long a browser may reuse a preflight answer: Starlette's default, which LiteLLM's proxy uses. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * Response headers a browser script may read besides the CORS-safelisted ones: those an SDK or a UI looks at
 * (the request id to quote in a bug report, the call id, routing and cache details, the rate-limit state and when
 * to retry). Every name is listed because `Access-Control-Expose-Headers: *` means nothing to a browser once
 * credentials are allowed.
 */
export const EXPOSED_HEADERS: readonly string[] = [
  REQUEST_ID_HEADER,
  'x-litellm-call-id',
  'x-litellm-cache-key',
  'x-litellm-attempted-retries',
  'x-litellm-attempted-fallbacks',
  'retry-after',
  ...allRateLimitHeaderNames(),
];

/**
 * What the cors middleware answers. Requests without an `Origin` header (servers, SDKs, curl: nearly all traffic)
 * get no CORS headers at all, so they pay nothing for them. With `*`, `Access-Control-Allow-Origin: *` and never
 * credentials (browsers refuse the pair); with a list, an allowed origin is echoed back and any other gets no
 * `Access-Control-Allow-Origin`, which the browser enforces. Request headers are reflected from the preflight, as
 * LiteLLM does (`allow_headers=["*"]`): the OpenAI SDK in a browser sends its own `x-stainless-*` headers.
 */
export function corsOptionsDelegate(settings: { origins: readonly string[]; allowCredentials: boolean }): CorsOptionsDelegate<Request> {
  const anyOrigin = settings.origins.includes(ANY_ORIGIN);
  const forBrowsers: CorsOptions = {
    origin: anyOrigin ? ANY_ORIGIN : [...settings.origins],
    credentials: settings.allowCredentials,
    // One string, not the list: the middleware would join 40 names again on every browser request.
    exposedHeaders: EXPOSED_HEADERS.join(','),
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
  };
  const forOthers: CorsOptions = { origin: false };
  return (request, callback) => callback(null, request.headers.origin === undefined ? forOthers : forBrowsers);
}
