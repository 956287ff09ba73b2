import type { RouterSettings } from '../../config/gateway-config.types';
import { emptyRouterSettings } from '../../config/config-file/router-settings';
import { GatewaySettings } from '../../config/gateway-settings';
import { AppException } from '../../errors';
import type { CallTracker } from '../call-tracker';
import { DeploymentTable, type CompiledDeployment } from '../deployment-table';
import type { UpstreamFailure } from '../upstream-errors';
import { ModelRouter } from './model-router';
import { LocalRouterState } from './router-state';

const table = new DeploymentTable(
  [
    { model_name: 'gpt-4o', litellm_params: { model: 'mock/a' }, model_info: { id: 'a' } },
    { model_name: 'gpt-4o', litellm_params: { model: 'mock/b' }, model_info: { id: 'b' } },
    { model_name: 'claude', litellm_params: { model: 'mock/c' }, model_info: { id: 'c' } },
    { model_name: 'long', litellm_params: { model: 'mock/l' }, model_info: { id: 'l' } },
  ],
  { env: {}, pools: false },
);

function router(settings: Partial<RouterSettings>): ModelRouter {
  const gateway = { config: { routerSettings: { ...emptyRouterSettings(), ...settings } }, environment: {} } as unknown as GatewaySettings;
  return new ModelRouter(table, gateway, new LocalRouterState());
}

const serverError: UpstreamFailure = { exception: new AppException('upstream_error', 'boom', { status: 500 }), retryable: true, kind: 'server' };

/** Routes one call to gpt-4o; `answers` says, per deployment id, whether it answers (null) or fails. */
async function route(r: ModelRouter, answers: Record<string, UpstreamFailure | null>, body: Record<string, unknown> = {}): Promise<{ tried: string[]; call: CallTracker; error: unknown }> {
  const tried: string[] = [];
  const call = { body: { model: 'gpt-4o', ...body }, routing: null, clientGone: false, deployment: null } as unknown as CallTracker;
  let error: unknown = null;
  try {
    await r.route({
      call,
      res: { headersSent: false, setHeader: () => undefined } as never,
      group: table.group('gpt-4o') as never,
      attempt: (d: CompiledDeployment) => {
        tried.push(d.modelId);
        return Promise.resolve(answers[d.modelId] ?? null);
      },
      resolveGroup: (name) => table.group(name),
      accessError: () => null,
    });
  } catch (thrown) {
    error = thrown;
  }
  return { tried, call, error };
}

describe(ModelRouter.name, () => {
  it('picks the fallback list by failure kind, as LiteLLM does', () => {
    const r = router({ fallbacks: { '*': ['claude'] }, context_window_fallbacks: { 'gpt-4o': ['long'] }, default_fallbacks: ['x'] });
    expect(r.fallbacksFor('gpt-4o', 'server', null)).toEqual(['claude']);
    expect(r.fallbacksFor('gpt-4o', 'context_window', null)).toEqual(['long']);
    expect(r.fallbacksFor('gpt-4o', 'content_policy', null)).toEqual([]);
    expect(r.fallbacksFor('gpt-4o', 'caller', null)).toEqual([]);
    expect(router({ default_fallbacks: ['claude'] }).fallbacksFor('gpt-4o', 'rate_limit', null)).toEqual(['claude']);
  });

  it('retries num_retries times within the group, then falls back, and keeps every failed attempt', async () => {
    const r = router({ num_retries: 1, fallbacks: { 'gpt-4o': ['claude'] } });
    const { tried, call, error } = await route(r, { a: serverError, b: serverError });
    expect(error).toBeNull();
    expect(tried).toEqual(['a', 'b', 'c']);
    expect(call.routing).toMatchObject({ attemptedRetries: 1, attemptedFallbacks: 1, modelGroup: 'claude' });
    expect(call.routing?.failedAttempts.map((attempt) => [attempt.modelGroup, attempt.deployment.modelId])).toEqual([
      ['gpt-4o', 'a'],
      ['gpt-4o', 'b'],
    ]);
  });

  it('answers with the first group\'s error when the fallbacks fail too, and never falls back on a caller error', async () => {
    const r = router({ fallbacks: { 'gpt-4o': ['claude'] } });
    const failed = await route(r, { a: serverError, b: serverError, c: { ...serverError, exception: new AppException('rate_limited', 'slow') } });
    expect(failed.error).toBe(serverError.exception);
    const caller: UpstreamFailure = { exception: new AppException('validation_failed', 'bad'), retryable: false, kind: 'caller' };
    const refused = await route(r, { a: caller, b: caller });
    expect(refused.tried).toHaveLength(1);
    expect(refused.error).toBe(caller.exception);
  });

  it('answers 429 when every deployment of the group is cooling down, and goes to the fallbacks', async () => {
    const r = router({ allowed_fails: 0, cooldown_time: 60, fallbacks: { 'gpt-4o': ['claude'] } });
    await route(r, { a: serverError, b: serverError });
    expect(r.isCoolingDown('a') && r.isCoolingDown('b')).toBe(true);
    const { tried, call } = await route(r, {});
    expect(tried).toEqual(['c']);
    expect(call.routing?.attemptedFallbacks).toBe(1);
  });

  it('refuses a request fallback the key may not use or that does not exist, before any attempt', async () => {
    const r = router({});
    const unknown = await route(r, {}, { fallbacks: ['nope'] });
    expect((unknown.error as AppException).code).toBe('model_not_found');
    expect(unknown.tried).toEqual([]);
  });
});
