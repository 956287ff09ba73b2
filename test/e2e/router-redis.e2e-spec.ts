import { randomUUID } from 'node:crypto';
import { ModelRouter } from '../../src/completions/router/model-router';
import { FakeUpstream } from '../support/fake-upstream';
import { createTestApp, type TestApp } from '../support/test-app';

const REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Two gateway instances with one config and the real Redis on 127.0.0.1:6379: a deployment that one instance cools
 * down is skipped by the other within a second, without a Redis round trip on the other's request path.
 */
describe('router: cooldowns shared by two instances through Redis', () => {
  const run = randomUUID().slice(0, 8);
  let broken: FakeUpstream;
  let healthy: FakeUpstream;
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    broken = await FakeUpstream.start({ behaviour: { type: 'status', status: 500, body: '{"error":{"message":"down"}}' } });
    healthy = await FakeUpstream.start({ content: 'healthy' });
    const configYaml = `
model_list:
  - model_name: shared
    litellm_params: { model: openai/a, api_base: "${broken.url}" }
    model_info: { id: broken-${run} }
  - model_name: shared
    litellm_params: { model: openai/b, api_base: "${healthy.url}" }
    model_info: { id: healthy-${run} }
router_settings:
  allowed_fails: 0
  cooldown_time: 30
`;
    first = await createTestApp({ configYaml, env: { REDIS_URL } });
    second = await createTestApp({ configYaml, env: { REDIS_URL }, keepData: true });
  });

  afterAll(async () => {
    await Promise.all([first?.close(), second?.close()]);
    await Promise.all([broken?.close(), healthy?.close()]);
  });

  async function chat(app: TestApp): Promise<number> {
    const response = await fetch(`${app.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${app.masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'shared', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    await response.text();
    return response.status;
  }

  it('agree on a cooldown within 1 s', async () => {
    const secondRouter = second.app.get(ModelRouter);
    expect(secondRouter.isCoolingDown(`broken-${run}`)).toBe(false);
    // Round robin starts on the broken deployment: the first call fails over (200) and cools it down.
    while (broken.count === 0) expect(await chat(first)).toBe(200);
    const cooledAt = Date.now();
    while (!secondRouter.isCoolingDown(`broken-${run}`)) {
      expect(Date.now() - cooledAt).toBeLessThan(1000);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(Date.now() - cooledAt).toBeLessThan(1000);
    for (let i = 0; i < 10; i++) expect(await chat(second)).toBe(200);
    expect(broken.count).toBe(1);
    expect(healthy.count).toBe(11);
  });
});
