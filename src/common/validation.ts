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
 * JSON.parse keeps `"__proto__"` as an own property; class-transformer would then walk it. Such keys are
 * never legitimate in a management body, so they are refused like any unknown field.
 */
class GatewayValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body') {
      const forbidden = findForbiddenKey(value, '', 0);
      if (forbidden !== null) {
        throw new AppException('unrecognized_field', `Unrecognized request argument supplied: ${forbidden}`, { param: forbidden });
      }
    }
    return super.transform(value, metadata);
  }
}

function findForbiddenKey(value: unknown, path: string, depth: number): string | null {
  if (value === null || typeof value !== 'object' || depth > 32) return null;
  for (const key of Object.keys(value)) {
    const childPath = path ? `${path}.${key}` : key;
    if (FORBIDDEN_KEYS.has(key)) return childPath;
    const found = findForbiddenKey((value as Record<string, unknown>)[key], childPath, depth + 1);
    if (found !== null) return found;
  }
  return null;
}
