import type { ResolvedEntry } from './logging-entry';
import { describeUnsetDestination, unsetDestinations } from './unset-variable-warnings';

const entry = (callback_name: string, callback_type: ResolvedEntry['callback_type'], vars: Record<string, string>, source: ResolvedEntry['source'] = 'config'): ResolvedEntry => ({
  callback_name,
  callback_type,
  callback_vars: vars,
  entry_id: `config:t:${callback_name}:${callback_type}`,
  trusted: true,
  source,
  owner: null,
});

describe('unset os.environ/ references of logging destinations', () => {
  it('one finding per destination kind, naming each unset or empty variable once; set variables and plain values are not findings', () => {
    const entries = [
      entry('langfuse', 'success', { langfuse_public_key: 'os.environ/LF_PUB', langfuse_secret: 'os.environ/LF_SECRET', langfuse_host: 'os.environ/LF_HOST' }),
      entry('langfuse', 'failure', { langfuse_public_key: 'os.environ/LF_PUB', langfuse_secret: 'os.environ/LF_SECRET', langfuse_host: 'os.environ/LF_HOST' }),
      entry('generic_api', 'success', { generic_logger_endpoint: 'http://127.0.0.1:9/logs' }),
      entry('s3', 'success', { s3_bucket_name: 'os.environ/S3_BUCKET' }),
    ];
    const found = unsetDestinations('team-a', entries, { LF_HOST: 'http://langfuse', LF_SECRET: '', S3_BUCKET: 'logs' });
    expect(found).toEqual([{ teamId: 'team-a', source: 'config', kind: 'langfuse', variables: ['LF_PUB', 'LF_SECRET'] }]);
  });

  it('the warning names the owner, the kind and the variables, and says what follows', () => {
    const [config] = unsetDestinations('my-secret-project', [entry('langfuse', 'success', { langfuse_public_key: 'os.environ/LANGFUSE_PUB_KEY_1' })], {});
    expect(describeUnsetDestination(config)).toMatch(
      /^logging destination langfuse of team my-secret-project \(config\.yaml default_team_settings\) refers to unset environment variable\(s\) os\.environ\/LANGFUSE_PUB_KEY_1: its events will fail and be retried until dead-lettered/,
    );
    const [global] = unsetDestinations(null, [entry('otel', 'success_and_failure', { otel_endpoint: 'os.environ/OTEL_ENDPOINT' }, 'global')], {});
    expect(describeUnsetDestination(global)).toContain('logging destination otel of the global callbacks (litellm_settings)');
    const [api] = unsetDestinations('t1', [entry('s3', 'success', { s3_bucket_name: 'os.environ/B' }, 'team')], {});
    expect(describeUnsetDestination(api)).toContain('logging destination s3 of team t1 (set through the API)');
  });
});
