import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { AppException } from '../errors';

/**
 * DTO validation for the management routes: unknown fields are refused (no mass assignment), and the
 * 400 names the first offending field with a dotted path.
 */
export function createValidationPipe(): ValidationPipe {
  return new GatewayValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: false,
    exceptionFactory: (errors) => toValidationException(errors),
  });
}

export function toValidationException(errors: ValidationError[]): AppException {
  const [path, error] = firstLeaf(errors[0], '');
  const constraints = error.constraints ?? {};
  if (constraints.whitelistValidation) {
    return new AppException('unrecognized_field', `Unrecognized request argument supplied: ${path}`, { param: path });
  }
  const message = Object.values(constraints)[0] ?? `${path} is invalid`;
  return new AppException('validation_failed', message, { param: path });
}

function firstLeaf(error: ValidationError, prefix: string): [string, ValidationError] {
  const path = prefix ? (/^\d+$/.test(error.property) ? `${prefix}[${error.property}]` : `${prefix}.${error.property}`) : error.property;
  if (!error.constraints && error.children && error.children.length > 0) return firstLeaf(error.children[0], path);
  return [path, error];
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Before a management body reaches class-transformer and the database:
 * - JSON.parse keeps `"__proto__"` as an own property; class-transformer would then walk it. Such keys are
 *   never legitimate in a management body, so they are refused like any unknown field.
 * - PostgreSQL stores no NUL character, in text or in JSONB (22021, 22P05), so one in any value or key of the
 *   body would fail at the INSERT; it is refused here with the field's name instead.
 */
class GatewayValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body') {
      const found = findUnstorable(value, '');
      if (found?.reason === 'forbidden_key') {
        throw new AppException('unrecognized_field', `Unrecognized request argument supplied: ${found.path}`, { param: found.path });
      }
      if (found?.reason === 'nul') {
        throw new AppException('validation_failed', `${found.path} contains a NUL character (\\u0000), which cannot be stored`, { param: found.path });
      }
    }
    return super.transform(value, metadata);
  }
}

/** The first key or value that must not go further; the body parser has already bounded the depth. */
function findUnstorable(value: unknown, path: string): { path: string; reason: 'forbidden_key' | 'nul' } | null {
  if (typeof value === 'string') return value.includes('\0') ? { path: path || '(body)', reason: 'nul' } : null;
  if (value === null || typeof value !== 'object') return null;
  const isArray = Array.isArray(value);
  for (const key of Object.keys(value)) {
    const childPath = isArray ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    if (FORBIDDEN_KEYS.has(key)) return { path: childPath, reason: 'forbidden_key' };
    if (key.includes('\0')) return { path: childPath, reason: 'nul' };
    const found = findUnstorable((value as Record<string, unknown>)[key], childPath);
    if (found !== null) return found;
  }
  return null;
}
