import { chromium, type Browser } from 'playwright-core';
import { KEY_ROLES } from '../../src/keys/principal';
import { chromiumExecutable } from '../support/chromium';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * An admin's first contact: the real Swagger UI in headless Chromium. Authorize with the master key, run
 * POST /team/new through "Try it out", and see a 200. Which Chromium: see `chromiumExecutable`.
 */
describe('Swagger UI in a real browser', () => {
  let gw: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    gw = await createTestApp();
    browser = await chromium.launch({
      executablePath: chromiumExecutable(),
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-gpu'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it('authorizes with the master key and creates a team through "Try it out"', async () => {
    const page = await browser.newPage();
    await page.goto(`${gw.baseUrl}/docs`);
    await page.getByRole('button', { name: 'Authorize' }).first().click();
    await page.locator('.modal-ux input[type=text], .modal-ux input[type=password]').first().fill(gw.masterKey);
    await page.locator('.modal-ux button.authorize').click();
    await page.locator('.modal-ux button.btn-done').click();

    const operation = page.locator('#operations-teams-TeamsController_create');
    await operation.locator('.opblock-summary').click();
    await operation.locator('button.try-out__btn').click();
    await operation.locator('textarea.body-param__text').fill(JSON.stringify({ team_id: 'created-in-swagger', team_alias: 'from the browser' }));
    await operation.locator('button.execute').click();

    const status = operation.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor({ timeout: 15_000 });
    expect((await status.innerText()).trim()).toBe('200');

    const stored = await gw.http().get('/team/info').query({ team_id: 'created-in-swagger' }).set('Authorization', `Bearer ${gw.masterKey}`).expect(200);
    expect((stored.body as { team_info: { team_alias: string | null } }).team_info.team_alias).toBe('from the browser');
  });

  it('starts every "Try it out" body from a declared, harmless example: never a role', async () => {
    const document = (await gw.http().get('/openapi.json').expect(200)).body as OpenApiDocument;
    const operations = operationsWithBody(document);
    expect(operations.length).toBeGreaterThanOrEqual(10);

    const page = await browser.newPage();
    await page.goto(`${gw.baseUrl}/docs`);
    for (const { id, method, path, declared } of operations) {
      // Declared on every body, so Swagger UI never samples one from the schema (which picks each enum's first
      // value: `"role": "proxy_admin"` for /key/generate).
      expect({ id, declared: declared !== undefined }).toEqual({ id, declared: true });
      const operation = page.locator(`.opblock-${method}`).filter({ has: page.locator(`.opblock-summary-path[data-path="${path}"]`) });
      await operation.locator('.opblock-summary').first().click();
      await operation.locator('button.try-out__btn').click();
      const prefilled = JSON.parse(await operation.locator('textarea.body-param__text').inputValue()) as unknown;
      expect({ id, prefilled }).toEqual({ id, prefilled: declared });
      expect({ id, grantsRole: grantsKeyRole(prefilled) }).toEqual({ id, grantsRole: false });
    }
  });
});

interface OpenApiOperation {
  operationId: string;
  requestBody?: { content: Record<string, { examples?: Record<string, { value: unknown }>; schema?: { example?: unknown } }> };
}
interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
}

/** Each operation with a JSON body and the example it declares (the first of `examples`, else the schema's). */
function operationsWithBody(document: OpenApiDocument): { id: string; method: string; path: string; declared: unknown }[] {
  const found: { id: string; method: string; path: string; declared: unknown }[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const json = operation.requestBody?.content['application/json'];
      if (!json) continue;
      const first = json.examples ? Object.values(json.examples)[0]?.value : undefined;
      found.push({ id: operation.operationId, method, path, declared: first ?? json.schema?.example });
    }
  }
  return found;
}

/** True when any `role` in the body names a key role (a chat message's `"role": "user"` is not one). */
function grantsKeyRole(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(grantsKeyRole);
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([name, inner]) => (name === 'role' && (KEY_ROLES as readonly unknown[]).includes(inner)) || grantsKeyRole(inner));
}
