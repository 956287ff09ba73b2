import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { IncomingHttpHeaders } from 'node:http';
import { AppException } from '../errors';
import { ACCESS_LEVEL, type AccessLevel, type AuthenticatedRequest } from './auth.decorators';
import { KeysService } from './keys.service';
import type { Principal } from './principal';

const MAX_KEY_LENGTH = 512;
// Visible ASCII only: keeps CR/LF, NUL and other control bytes away from every later use of the value.
const KEY_CHARSET = /^[\x21-\x7e]+$/;

/**
 * The global guard: every route needs a valid key unless marked `@Public()`, and proxy-admin rights
 * unless marked with a lower `@Access(...)` level.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  /** A route's level never changes: its metadata is read once per class and handler, not on every request. */
  private readonly levels = new WeakMap<object, Map<object, AccessLevel>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly keys: KeysService,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const level = this.levelOf(context);
    if (level === 'public') return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest & { headers: IncomingHttpHeaders }>();
    const key = extractKey(request.headers);
    // A cached key is answered without a promise: this runs on every LLM call.
    const cached = this.keys.authenticateCached(key);
    if (cached !== undefined) return authorize(request, cached, level);
    return this.keys.authenticate(key).then((principal) => authorize(request, principal, level));
  }

  private levelOf(context: ExecutionContext): AccessLevel {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byHandler = this.levels.get(controller);
    if (byHandler === undefined) {
      byHandler = new Map();
      this.levels.set(controller, byHandler);
    }
    let level = byHandler.get(handler);
    if (level === undefined) {
      level = this.reflector.getAllAndOverride<AccessLevel | undefined>(ACCESS_LEVEL, [handler, controller]) ?? 'admin';
      byHandler.set(handler, level);
    }
    return level;
  }
}

function authorize(request: AuthenticatedRequest, principal: Principal, level: AccessLevel): boolean {
  request.principal = principal;
  if (level === 'admin' && !principal.isProxyAdmin) {
    throw new AppException('forbidden', 'Only the proxy admin may call this route');
  }
  if (level === 'team_admin' && !principal.isProxyAdmin && principal.role !== 'team_admin') {
    throw new AppException('forbidden', 'Only the proxy admin or a team admin may call this route');
  }
  return true;
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
