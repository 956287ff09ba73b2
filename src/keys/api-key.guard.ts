import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import { AppException } from '../errors';
import { ACCESS_LEVEL, type AccessLevel, type AuthenticatedRequest } from './auth.decorators';
import { KeysService } from './keys.service';
import { isSomeTeamAdmin, type Principal } from './principal';

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

    const request = context.switchToHttp().getRequest<AuthenticatedRequest & Pick<IncomingMessage, 'headersDistinct'>>();
    const key = extractKey(request.headersDistinct);
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
  if (level === 'team_admin' && !isSomeTeamAdmin(principal)) {
    throw new AppException('forbidden', 'Only the proxy admin or a team admin may call this route');
  }
  return true;
}

/** Where a key may come from: `Authorization: Bearer <key>`, or LiteLLM's alternatives. */
const KEY_HEADERS = ['authorization', 'x-api-key', 'api-key', 'x-litellm-api-key'] as const;

/**
 * The key of a request, from every value of every key header (`request.headersDistinct`: Node keeps only the
 * first of two `Authorization` headers in `headers`, so a second one would go unseen). Two values of one
 * header, or two key headers that disagree, are refused: which one is meant cannot be told, and a proxy in
 * front may have checked the other one (Kong answers "Duplicate API key found" too).
 */
export function extractKey(headers: Readonly<Record<string, readonly string[] | undefined>>): string {
  let key: string | undefined;
  let keyHeader: string | undefined;
  for (const name of KEY_HEADERS) {
    const values = headers[name];
    if (values === undefined || values.length === 0) continue;
    if (values.length > 1) throw duplicateKey(`the ${name} header is sent ${values.length} times`, name);
    const value = name === 'authorization' ? bearerToken(values[0]) : values[0].trim();
    if (value === '') continue;
    if (key === undefined) {
      key = value;
      keyHeader = name;
    } else if (value !== key) {
      throw duplicateKey(`${keyHeader} and ${name} carry different keys`, name);
    }
  }
  if (key === undefined) {
    throw new AppException('missing_api_key', 'Authentication Error - no API key passed in (use "Authorization: Bearer <key>")');
  }
  if (key.length > MAX_KEY_LENGTH || !KEY_CHARSET.test(key)) {
    throw new AppException('invalid_api_key', 'Authentication Error - Invalid proxy server token passed');
  }
  return key;
}

function bearerToken(authorization: string): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) {
    throw new AppException('invalid_api_key', 'Authentication Error - the Authorization header must be "Bearer <key>"');
  }
  return match[1];
}

function duplicateKey(detail: string, header: string): AppException {
  return new AppException('duplicate_api_key', `Duplicate API key found: ${detail}. Send one key, in one header`, { param: header });
}
