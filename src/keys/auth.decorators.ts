import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Principal } from './principal';

/**
 * Who may call a route. Routes without a decorator are proxy-admin only, so a forgotten decorator
 * closes a route rather than opening it.
 * - `public`: no key needed (health, docs).
 * - `team_admin`: proxy admin, or a team admin (the service then checks the team is theirs).
 * - `any_key`: every valid key (LLM routes, the caller's own key info and health).
 */
export type AccessLevel = 'public' | 'admin' | 'team_admin' | 'any_key';
export const ACCESS_LEVEL = 'gatehouse:access';

export const Public = () => SetMetadata(ACCESS_LEVEL, 'public' satisfies AccessLevel);

/** Documents the bearer scheme and the 401/403 answers in one go with the access rule. */
export const Access = (level: Exclude<AccessLevel, 'public'>) =>
  applyDecorators(
    SetMetadata(ACCESS_LEVEL, level),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ description: 'Missing, unknown, expired or blocked key' }),
    ApiForbiddenResponse({ description: 'The key may not do this' }),
  );

export interface AuthenticatedRequest {
  principal?: Principal;
}

export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) {
    // Only reachable if a public route asks for a principal: a programming error, not a client one.
    throw new Error('CurrentPrincipal used on a route without authentication');
  }
  return principal;
});
