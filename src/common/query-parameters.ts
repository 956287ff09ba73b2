import type { NextFunction, Request, Response } from 'express';
import { AppException } from '../errors';

/**
 * Every route reads its query parameters as single strings. The query parser turns `?key=a&key=b` into an
 * array, which then reached string-only code (hashing, SQL) and failed there with a 500: a repeated parameter is
 * refused here, on every route, before authentication.
 */
export function rejectRepeatedQueryParameters(request: Request, _response: Response, next: NextFunction): void {
  const query = request.query as Record<string, unknown>;
  for (const name in query) {
    if (Array.isArray(query[name])) {
      const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
      next(new AppException('repeated_parameter', `The query parameter ${JSON.stringify(shown)} is given more than once: send it once`, { param: shown }));
      return;
    }
  }
  next();
}
