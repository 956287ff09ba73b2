import { FakeLangfuse } from '../support/fakes/fake-langfuse';
import { chat, LOGGING_ENV, marker, quietPeriod, waitFor } from '../support/logging/harness';
import { langfuseProject, modelListYaml } from '../support/logging/fixtures';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * GDPR: after POST /team/{id}/disable_logging nothing of the team leaves the gateway any more — including
 * events it logged before the switch that were still waiting for delivery (the destination was down).
 */
describe('disable_logging purges the team’s undelivered events', () => {
  let gw: TestApp;
  let langfuse: FakeLangfuse;
  const muted = langfuseProject('muted');
  const control = langfuseProject('control');

  beforeAll(async () => {
    langfuse = await FakeLangfuse.start({ keys: [muted, control] });
    gw = await createTestApp({
      configYaml: `${modelListYaml()}\ngeneral_settings:\n  allowed_logging_hosts: ["127.0.0.1"]\n`,
      env: { ...LOGGING_ENV, LOG_RETRY_MAX_BACKOFF_MS: '200' },
    });
  });
  afterAll(async () => {
    await gw.close();
    await langfuse.close();
  });

  const admin = () => ({ Authorization: `Bearer ${gw.masterKey}` });

  async function teamWithKey(teamId: string, project: { publicKey: string; secretKey: string }): Promise<string> {
    await gw.http().post('/team/new').set(admin()).send({ team_id: teamId }).expect(200);
    await gw
      .http()
      .post(`/team/${teamId}/callback`)
      .set(admin())
      .send({
        callback_name: 'langfuse',
        callback_vars: { langfuse_public_key: project.publicKey, langfuse_secret_key: project.secretKey, langfuse_host: langfuse.url },
      })
      .expect(200);
    const key = await gw.http().post('/key/generate').set(admin()).send({ team_id: teamId }).expect(200);
    return (key.body as { key: string }).key;
  }

  it('deletes the queued events, and they never arrive once the destination is back', async () => {
    const mutedKey = await teamWithKey('muted-team', muted);
    const controlKey = await teamWithKey('control-team', control);
    await langfuse.refuseConnections();

    const marks = [marker('before-disable'), marker('before-disable')];
    for (const mark of marks) expect((await chat(gw.baseUrl, mutedKey, { marker: mark })).status).toBe(200);
    await waitFor('the events to reach the outbox', async () => {
      const [{ count }] = await gw.dataSource.query<{ count: number }[]>(`SELECT count(*)::int AS count FROM log_outbox WHERE team_id = 'muted-team'`);
      return count === marks.length;
    });

    await gw.http().post('/team/muted-team/disable_logging').set(admin()).expect(200);
    const [{ count }] = await gw.dataSource.query<{ count: number }[]>(`SELECT count(*)::int AS count FROM log_outbox WHERE team_id = 'muted-team'`);
    expect(count).toBe(0);

    await langfuse.restart();
    const controlMark = marker('control');
    const answer = await chat(gw.baseUrl, controlKey, { marker: controlMark });
    await waitFor('the control team’s event', () => langfuse.traces(control.publicKey).some((trace) => trace.id === answer.callId));
    await quietPeriod();
    expect(langfuse.traces(muted.publicKey)).toEqual([]);
  });
});
