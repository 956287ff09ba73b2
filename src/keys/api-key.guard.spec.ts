import { NO_LIMITS } from '../budgets/usage-limits';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppException } from '../errors';
import { ACCESS_LEVEL } from './auth.decorators';
import { ApiKeyGuard, extractKey } from './api-key.guard';
import type { KeysService } from './keys.service';
import type { Principal } from './principal';

const plainKey: Principal = {
  kind: 'key',
  isProxyAdmin: false,
  role: null,
  keyHash: 'h',
  keyAlias: null,
  teamId: 't',
  teamAlias: null,
  allowedModels: null,
  keyMetadata: {},
  teamMetadata: {},
  teamLoggingDisabled: false,
  userId: null,
  adminTeamIds: [],
  limits: NO_LIMITS,
};

function contextFor(handler: () => void, headers: Record<string, string>): { context: ExecutionContext; request: Record<string, unknown> } {
  const request: Record<string, unknown> = { headers, headersDistinct: distinct(headers) };
  const context = {
    getHandler: () => handler,
    getClass: () => class {},
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
  return { context, request };
}

/** `request.headersDistinct` of a request with these headers, each sent once. */
function distinct(headers: Record<string, string>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]]));
}

describe(ApiKeyGuard.name, () => {
  const authenticate = jest.fn(() => Promise.resolve(plainKey));
  const keys = {
    authenticateCached: jest.fn((key: string) => (key === 'sk-cached' ? plainKey : undefined)),
    authenticate,
  } as unknown as KeysService;
  const guard = new ApiKeyGuard(new Reflector(), keys);
  // The guard answers synchronously when it can; a synchronous throw must reach Nest like a rejection.
  const activate = (context: ExecutionContext) => Promise.resolve().then(() => guard.canActivate(context));
  const withLevel = (level?: string) => {
    const handler = () => undefined;
    if (level) Reflect.defineMetadata(ACCESS_LEVEL, level, handler);
    return handler;
  };

  it('lets public routes through without touching the key store', async () => {
    const { context } = contextFor(withLevel('public'), {});
    await expect(activate(context)).resolves.toBe(true);
    expect(authenticate).not.toHaveBeenCalled();
  });

  it('treats an undecorated route as proxy-admin only', async () => {
    const { context } = contextFor(withLevel(), { authorization: 'Bearer sk-x' });
    await expect(activate(context)).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('attaches the principal for any_key routes', async () => {
    const { context, request } = contextFor(withLevel('any_key'), { authorization: 'Bearer sk-x' });
    await expect(activate(context)).resolves.toBe(true);
    expect(request.principal).toBe(plainKey);
  });

  it('answers a cached key synchronously, without the key store', () => {
    authenticate.mockClear();
    const { context, request } = contextFor(withLevel('any_key'), { authorization: 'Bearer sk-cached' });
    expect(guard.canActivate(context)).toBe(true);
    expect(request.principal).toBe(plainKey);
    expect(authenticate).not.toHaveBeenCalled();
  });

  it('refuses plain keys on team_admin routes', async () => {
    const { context } = contextFor(withLevel('team_admin'), { authorization: 'Bearer sk-x' });
    await expect(activate(context)).rejects.toMatchObject({ code: 'forbidden' });
  });
});

describe(extractKey.name, () => {
  it.each([
    [{ authorization: 'Bearer sk-abc' }, 'sk-abc'],
    [{ authorization: 'bearer   sk-abc  ' }, 'sk-abc'],
    [{ 'x-api-key': 'sk-abc' }, 'sk-abc'],
    [{ 'api-key': 'sk-abc' }, 'sk-abc'],
    [{ 'x-litellm-api-key': 'sk-abc' }, 'sk-abc'],
    [{ authorization: 'Bearer sk-abc', 'x-api-key': 'sk-abc' }, 'sk-abc'],
    [{ authorization: 'Bearer sk-abc', 'api-key': '' }, 'sk-abc'],
  ])('reads %j', (headers, expected) => {
    expect(extractKey(distinct(headers))).toBe(expected);
  });

  it.each([
    [{}, 'missing_api_key'],
    [{ 'x-api-key': '  ' }, 'missing_api_key'],
    [{ authorization: 'Basic abc' }, 'invalid_api_key'],
    [{ authorization: 'Bearer' }, 'invalid_api_key'],
    [{ authorization: 'Bearer a b' }, 'invalid_api_key'],
    [{ 'x-api-key': `sk-${'a'.repeat(600)}` }, 'invalid_api_key'],
    [{ 'x-api-key': 'sk-\u00e9' }, 'invalid_api_key'],
  ])('refuses %j with %s', (headers, code) => {
    try {
      extractKey(distinct(headers));
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(AppException);
      expect((error as AppException).code).toBe(code);
    }
  });

  it.each([
    ['two Authorization headers, the valid one first', { authorization: ['Bearer sk-valid', 'Bearer sk-other'] }, 'authorization', /the authorization header is sent 2 times/],
    ['the same Authorization header twice', { authorization: ['Bearer sk-a', 'Bearer sk-a'] }, 'authorization', /sent 2 times/],
    ['two x-api-key headers', { 'x-api-key': ['sk-a', 'sk-b'] }, 'x-api-key', /sent 2 times/],
    ['Authorization and x-api-key disagreeing', { authorization: ['Bearer sk-a'], 'x-api-key': ['sk-b'] }, 'x-api-key', /authorization and x-api-key carry different keys/],
    ['api-key and x-litellm-api-key disagreeing', { 'api-key': ['sk-a'], 'x-litellm-api-key': ['sk-b'] }, 'x-litellm-api-key', /api-key and x-litellm-api-key/],
    // What AzureOpenAI clients send: one api-key header; two of them, or one beside a different bearer, are refused.
    ['two api-key headers', { 'api-key': ['sk-a', 'sk-a'] }, 'api-key', /the api-key header is sent 2 times/],
    ['Authorization and api-key disagreeing', { authorization: ['Bearer sk-a'], 'api-key': ['sk-b'] }, 'api-key', /authorization and api-key carry different keys/],
  ])('refuses %s with a 400 duplicate_api_key naming the header', (_name, headers, param, message) => {
    try {
      extractKey(headers);
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(AppException);
      expect(error).toMatchObject({ code: 'duplicate_api_key', status: 400, type: 'invalid_request_error', param });
      expect((error as AppException).message).toMatch(/^Duplicate API key found: /);
      expect((error as AppException).message).toMatch(message);
    }
  });
});
