import { chromium, type Browser } from 'playwright-core';
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
});
