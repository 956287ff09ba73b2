import { createTestApp, type TestApp } from '../support/test-app';

describe('database schema', () => {
  let gw: TestApp;

  beforeAll(async () => {
    gw = await createTestApp();
  });
  afterAll(async () => {
    await gw.close();
  });

  it('the migrations produce exactly the schema the entities describe (no drift)', async () => {
    const pending = await gw.dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  it('has run every migration', async () => {
    expect(await gw.dataSource.showMigrations()).toBe(false);
  });
});
