import { AppException } from '../errors';
import { applyAzureStyleTarget, azureStyleTarget } from './azure-style-route';

describe('Azure-style routes', () => {
  it("the path's deployment (segments joined, as Express hands a wildcard over) replaces the body's model", () => {
    const body: Record<string, unknown> = { model: 'what-the-client-says', messages: [] };
    applyAzureStyleTarget(body, azureStyleTarget(['team-a', 'gpt-4o'], '2024-10-21'));
    expect(body.model).toBe('team-a/gpt-4o');
    expect(azureStyleTarget('gpt-4o', undefined).deployment).toBe('gpt-4o');
  });

  it.each(['2024-10-21', '2025-04-01-preview', 'preview', 'latest', undefined])('api-version %s is accepted', (version) => {
    expect(() => applyAzureStyleTarget({}, azureStyleTarget(['d'], version))).not.toThrow();
  });

  it.each(['', 'yesterday', '2024-10-21; drop', '24-10-21', ['2024-10-21']])('api-version %p is a 400 naming it', (version) => {
    let thrown: unknown;
    try {
      applyAzureStyleTarget({}, azureStyleTarget(['d'], version));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppException);
    expect(thrown).toMatchObject({ code: 'validation_failed', param: 'api-version' });
  });
});
