import { applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { IncomingHttpHeaders } from 'node:http';

const HEADER = 'litellm-changed-by';

/**
 * LiteLLM's optional `litellm-changed-by` header: who a change is made for, recorded in the audit log.
 * A custom param decorator (not `@Headers()`), so the OpenAPI document does not mark it required.
 */
export const ChangedBy = createParamDecorator((_data: unknown, context: ExecutionContext): string | undefined => {
  const value = context.switchToHttp().getRequest<{ headers: IncomingHttpHeaders }>().headers[HEADER];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
});

/** Documents the header as optional on a route that records changes. */
export const DocumentsChangedBy = () =>
  applyDecorators(ApiHeader({ name: HEADER, required: false, description: 'Recorded in the audit log as the author of the change' }));
