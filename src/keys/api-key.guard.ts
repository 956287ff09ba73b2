import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { IncomingHttpHeaders } from 'node:http';
import { AppException } from '../errors';
import { ACCESS_LEVEL, type AccessLevel, type AuthenticatedRequest } from './auth.decorators';
import { KeysService } from './keys.service';

const MAX_KEY_LENGTH = 512;
// Visible ASCII only: keeps CR/LF, NUL and other control bytes away from every later use of the value.
const KEY_CHARSET = /^[\x21-\x7e]+$/;

/**
 * The global guard: every route needs a valid key unless marked `@Public()`, and proxy-admin rights
 * unless marked with a lower `@Access(...)` level.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: KeysService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const level =
      this.reflector.getAllAndOverride<AccessLevel | undefined>(ACCESS_LEVEL, [context.getHandler(), context.getClass()]) ?? 'admin';
    if (level === 'public') return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest & { headers: IncomingHttpHeaders }>();
    const principal = await this.keys.authenticate(extractKey(request.headers));
    request.principal = principal;

    if (level === 'admin' && !principal.isProxyAdmin) {
      throw new AppException('forbidden', 'Only the proxy admin may call this route');
    }
    if (level === 'team_admin' && !principal.isProxyAdmin && principal.role !== 'team_admin') {
      throw new AppException('forbidden', 'Only the proxy admin or a team admin may call this route');
    }
    return true;
  }
}

/** `Authorization: Bearer <key>`, or LiteLLM's alternatives `x-api-key`, `api-key`, `x-litellm-api-key`. */
export function extractKey(headers: IncomingHttpHeaders): string {
  const authorization = headers.authorization;
  let key: string | undefined;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) {
      throw new AppException('invalid_api_key', 'Authentication Error - the Authorization header must be "Bearer <key>"');
    }
    key = match[1];
  } else {
    key = firstHeader(headers['x-api-key']) ?? firstHeader(headers['api-key']) ?? firstHeader(headers['x-litellm-api-key']);
  }
  if (key === undefined || key.trim() === '') {
    throw new AppException('missing_api_key', 'Authentication Error - no API key passed in (use "Authorization: Bearer <key>")');
  }
  key = key.trim();
  if (key.length > MAX_KEY_LENGTH || !KEY_CHARSET.test(key)) {
    throw new AppException('invalid_api_key', 'Authentication Error - Invalid proxy server token passed');
  }
  return key;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
