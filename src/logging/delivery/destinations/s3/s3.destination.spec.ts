import { GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { FakeS3 } from '../../../../../test/support/fakes/fake-s3';
import { failurePayload, samplePayload } from '../../../../../test/support/fakes/sample-payload';
import type { DeliveryItem } from '../../../log-destination';
import { bucketUrl, objectsFor, S3Destination, type S3Settings } from './s3.destination';

const KEY_ID = 'AKIAGATEHOUSETEST001';
const SECRET = 'gh-s3-secret-canary-0123456789abcdefghijkl';
const TOKEN = 'gh-s3-session-token-canary-zyxwvu';

function item(eventId: string, overrides: Parameters<typeof samplePayload>[0] = {}): DeliveryItem {
  const callId = eventId.split(':')[0];
  return { eventId, payload: samplePayload({ litellm_call_id: callId, id: `chatcmpl-${callId}`, ...overrides }) };
}

describe('S3Destination', () => {
  let fake: FakeS3;
  let destination: S3Destination;
  let settings: S3Settings;

  const parse = (vars: Record<string, string>, on: S3Destination = destination): S3Settings => {
    const parsed = on.parseSettings(vars);
    if (!('settings' in parsed)) throw new Error(JSON.stringify(parsed.errors));
    return parsed.settings;
  };
  const vars = (extra: Record<string, string> = {}): Record<string, string> => ({
    s3_bucket_name: 'team-logs',
    s3_region_name: 'eu-west-1',
    s3_endpoint_url: fake.url,
    s3_aws_access_key_id: KEY_ID,
    s3_aws_secret_access_key: SECRET,
    ...extra,
  });

  beforeEach(async () => {
    fake = await FakeS3.start({
      credentials: [{ accessKeyId: KEY_ID, secretAccessKey: SECRET }, { accessKeyId: 'ASIATEMPORARY0000001', secretAccessKey: SECRET, sessionToken: TOKEN }],
      buckets: { 'team-logs': 'eu-west-1', 'other-logs': 'us-east-1' },
    });
    destination = new S3Destination({ requestTimeoutMs: 2_000, env: {} });
    settings = parse(vars({ s3_path: '/litellm/prod/' }));
  });

  afterEach(async () => {
    await destination.close();
    await fake.close();
  });

  describe('parseSettings', () => {
    it("reads LiteLLM's s3_callback_params names", () => {
      expect(settings).toEqual({
        bucket: 'team-logs',
        region: 'eu-west-1',
        path: 'litellm/prod',
        endpoint: fake.url,
        virtualHosted: false,
        credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET },
        teamPrefix: false,
        keyPrefix: false,
        promptsOnly: false,
        serverSideEncryption: null,
        kmsKeyId: null,
      });
      expect(parse({ s3_bucket_name: 'b-1', s3_sse_kms_key_id: 'arn:aws:kms:k', s3_use_team_prefix: 'True' })).toMatchObject({
        region: 'us-east-1',
        endpoint: null,
        credentials: null,
        teamPrefix: true,
        serverSideEncryption: 'aws:kms',
        kmsKeyId: 'arn:aws:kms:k',
      });
    });

    it('takes the region from AWS_REGION_NAME / AWS_REGION / AWS_DEFAULT_REGION when the entry has none', () => {
      const withEnv = new S3Destination({ env: { AWS_REGION: 'ap-south-1', AWS_DEFAULT_REGION: 'us-west-2' } });
      expect(parse({ s3_bucket_name: 'b-1' }, withEnv).region).toBe('ap-south-1');
    });

    it('names the field of every bad value, never echoing a secret', () => {
      const errors = (v: Record<string, string>): string => JSON.stringify(destination.parseSettings(v));
      expect(errors({})).toMatch(/s3_bucket_name is required/);
      expect(errors({ s3_bucket_name: 'Bad_Bucket' })).toMatch(/"field":"s3_bucket_name".*not a valid S3 bucket name/);
      expect(errors({ s3_bucket_name: 'ok-bucket', s3_region_name: 'mars' })).toMatch(/"field":"s3_region_name"/);
      expect(errors({ s3_bucket_name: 'ok-bucket', s3_endpoint_url: 'ftp://x' })).toMatch(/"field":"s3_endpoint_url"/);
      expect(errors({ s3_bucket_name: 'ok-bucket', s3_path: 'a/../b' })).toMatch(/"field":"s3_path"/);
      expect(errors({ s3_bucket_name: 'ok-bucket', s3_use_key_prefix: 'maybe' })).toMatch(/"field":"s3_use_key_prefix"/);
      expect(errors({ s3_bucket_name: 'ok-bucket', s3_server_side_encryption: 'rot13' })).toMatch(/"field":"s3_server_side_encryption"/);
      const half = errors({ s3_bucket_name: 'ok-bucket', s3_aws_secret_access_key: SECRET });
      expect(half).toMatch(/"field":"s3_aws_access_key_id"/);
      expect(half).not.toContain(SECRET);
      expect(errors({ s3_bucket_name: 'ok-bucket', s3_aws_role_name: 'arn:aws:iam::1:role/x' })).toMatch(/Invalid callback variable: s3_aws_role_name/);
    });
  });

  it("PUTs one SigV4-signed JSON-lines object per batch under LiteLLM's <s3_path>/<date>/time-… layout", async () => {
    const items = [
      item('call-1:s3', { startTime: 1_767_225_600.25 }),
      item('call-2:s3', { startTime: 1_767_225_601.5 }),
      { eventId: 'call-3:s3', payload: failurePayload({ litellm_call_id: 'call-3', startTime: 1_767_225_602 }) },
    ];
    expect(await destination.send(items, settings)).toEqual({ ok: true });
    const objects = fake.objects('team-logs');
    expect(objects).toHaveLength(1);
    expect(objects[0].key).toMatch(/^litellm\/prod\/2026-01-01\/time-00-00-00-250000_batch-3-[0-9a-f]{16}\.json$/);
    expect(objects[0].contentType).toBe('application/json');
    expect(objects[0].headers['cache-control']).toBe('private, immutable, max-age=31536000, s-maxage=0');
    expect(objects[0].headers['content-disposition']).toMatch(/^inline; filename="time-00-00-00-250000_batch-3-[0-9a-f]{16}\.json"$/);
    expect(objects[0].headers['content-md5']).toBeDefined();
    expect(objects[0].signedBy).toBe(KEY_ID);
    expect(fake.lines('team-logs').map((l) => [l.litellm_call_id, l.status])).toEqual([
      ['call-1', 'success'],
      ['call-2', 'success'],
      ['call-3', 'failure'],
    ]);
    expect(fake.puts).toHaveLength(1);
    expect(fake.puts[0].path.startsWith('/team-logs/litellm/prod/2026-01-01/')).toBe(true);
  });

  it("names a batch of one exactly as LiteLLM names its object: time-<HH-MM-SS-ffffff>_<id>.json", async () => {
    expect(await destination.send([item('call-9:s3', { startTime: 1_767_268_245.123456 })], settings)).toEqual({ ok: true });
    expect(fake.objects('team-logs').map((o) => o.key)).toEqual(['litellm/prod/2026-01-01/time-11-50-45-123456_chatcmpl-call-9.json']);
    expect(JSON.parse(fake.objects('team-logs')[0].text)).toMatchObject({ id: 'chatcmpl-call-9', litellm_call_id: 'call-9' });
  });

  it('splits a batch by date folder and by team/key alias when s3_use_team_prefix / s3_use_key_prefix are on', async () => {
    const prefixed = parse(vars({ s3_use_team_prefix: 'true', s3_use_key_prefix: 'true' }));
    const meta = (team: string) => ({ metadata: { ...samplePayload().metadata, user_api_key_team_alias: team, user_api_key_alias: 'key-a' } });
    const items = [
      item('a:s3', { startTime: 1_767_225_600, ...meta('team-red') }),
      item('b:s3', { startTime: 1_767_225_700, ...meta('team-red') }),
      item('c:s3', { startTime: 1_767_225_600, ...meta('team-blue') }),
      item('d:s3', { startTime: 1_767_312_000, ...meta('team-red') }),
    ];
    expect(await destination.send(items, prefixed)).toEqual({ ok: true });
    expect(fake.objects('team-logs').map((o) => o.key.replace(/_(batch-\d+-)[0-9a-f]+/, '_$1…'))).toEqual([
      'team-blue/key-a/2026-01-01/time-00-00-00-000000_chatcmpl-c.json',
      'team-red/key-a/2026-01-01/time-00-00-00-000000_batch-2-….json',
      'team-red/key-a/2026-01-02/time-00-00-00-000000_chatcmpl-d.json',
    ]);
  });

  it('percent-encodes keys once, as S3 canonicalises them (the fake verifies the signature over the encoded path)', async () => {
    const odd = parse(vars({ s3_path: 'logs=a+b/with space' }));
    expect(await destination.send([item('call-x:s3', { id: 'resp/1 ü&=+' })], odd)).toEqual({ ok: true });
    expect(fake.objects('team-logs')[0].key).toMatch(/^logs=a\+b\/with space\/\d{4}-\d{2}-\d{2}\/time-[\d-]+_resp_1 ü&=\+\.json$/);
  });

  it('is idempotent on redelivery: the same batch, in any order, overwrites its own object', async () => {
    const batch = [item('call-4:s3'), item('call-5:s3')];
    expect(await destination.send(batch, settings)).toEqual({ ok: true });
    expect(await destination.send([...batch].reverse(), settings)).toEqual({ ok: true });
    expect(fake.objects('team-logs')).toHaveLength(1);
    expect(objectsFor(batch, settings)[0].key).toBe(objectsFor([...batch].reverse(), settings)[0].key);
  });

  it('signs with a session token and sends the SSE headers', async () => {
    const temporary = parse(
      vars({ s3_aws_access_key_id: 'ASIATEMPORARY0000001', s3_aws_session_token: TOKEN, s3_server_side_encryption: 'aws:kms', s3_sse_kms_key_id: 'key-1' }),
    );
    expect(await destination.send([item('call-t:s3')], temporary)).toEqual({ ok: true });
    const [object] = fake.objects('team-logs');
    expect(object.signedBy).toBe('ASIATEMPORARY0000001');
    expect(object.headers['x-amz-server-side-encryption']).toBe('aws:kms');
    expect(object.headers['x-amz-server-side-encryption-aws-kms-key-id']).toBe('key-1');
  });

  it('writes only the prompt side when s3_log_prompts_only is on, and never a credential-shaped parameter', async () => {
    const promptsOnly = parse(vars({ s3_log_prompts_only: 'true' }));
    await destination.send([item('call-p:s3', { model_parameters: { temperature: 0.2, api_key: 'sk-leak', s3_aws_secret_access_key: SECRET } })], promptsOnly);
    const [line] = fake.lines('team-logs');
    expect(line.response).toBeNull();
    expect(line.model_parameters).toEqual({ temperature: 0.2 });
  });

  it('reports a wrong secret as not retryable, with S3 error code but without the canonical request', async () => {
    const wrong = parse(vars({ s3_aws_secret_access_key: 'not-the-secret' }));
    const result = await destination.send([item('call-w:s3')], wrong);
    expect(result).toMatchObject({ ok: false, retryable: false, error: expect.stringMatching(/^S3 bucket team-logs answered HTTP 403: SignatureDoesNotMatch/) as unknown });
    expect(JSON.stringify(result)).not.toContain('x-amz-date');
    const unknown = parse(vars({ s3_aws_access_key_id: 'AKIAUNKNOWN000000000' }));
    expect(await destination.send([item('call-w:s3')], unknown)).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('InvalidAccessKeyId') as unknown });
    expect(fake.objects('team-logs')).toHaveLength(0);
  });

  it('reports a wrong region with the region S3 names, and a missing or forbidden bucket, as not retryable', async () => {
    const wrongRegion = parse(vars({ s3_region_name: 'us-west-2' }));
    expect(await destination.send([item('call-r:s3')], wrongRegion)).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('AuthorizationHeaderMalformed') as unknown });
    expect(await destination.send([item('call-r:s3')], parse(vars({ s3_bucket_name: 'no-such-bucket' })))).toMatchObject({
      ok: false,
      retryable: false,
      error: expect.stringContaining('NoSuchBucket') as unknown,
    });
    fake.denyAccess('team-logs');
    expect(await destination.send([item('call-r:s3')], settings)).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('AccessDenied') as unknown });
  });

  it.each([
    [503, '3', 3_000],
    [500, undefined, undefined],
    [429, '1', 1_000],
  ])('reports HTTP %s as retryable (Retry-After honoured) and succeeds on the next try', async (status, retryAfter, ms) => {
    fake.setFailure({ status, ...(retryAfter ? { retryAfter } : {}), times: 1 });
    const result = await destination.send([item('call-8:s3')], settings);
    expect(result).toMatchObject({ ok: false, retryable: true, ...(ms ? { retryAfterMs: ms } : {}) });
    if (status === 503) expect(result).toMatchObject({ error: expect.stringContaining('SlowDown') as unknown });
    expect(fake.objects('team-logs')).toHaveLength(0);
    expect(await destination.send([item('call-8:s3')], settings)).toEqual({ ok: true });
  });

  it('acknowledges the objects that landed when another object of the batch failed', async () => {
    const prefixed = parse(vars({ s3_use_team_prefix: 'true' }));
    const meta = (team: string) => ({ metadata: { ...samplePayload().metadata, user_api_key_team_alias: team } });
    fake.setFailure({ status: 503, times: 1, match: (req) => req.path.includes('/team-blue/') });
    const result = await destination.send([item('a:s3', meta('team-red')), item('b:s3', meta('team-blue'))], prefixed);
    expect(result).toMatchObject({ ok: false, retryable: true, failedEventIds: ['b:s3'] });
    expect(fake.objects('team-logs').map((o) => o.key.split('/')[0])).toEqual(['team-red']);
  });

  it('reports connection refused as retryable', async () => {
    await fake.refuseConnections();
    expect(await destination.send([item('call-9:s3')], settings)).toEqual({ ok: false, retryable: true, error: 'cannot reach S3 bucket team-logs: ECONNREFUSED' });
  });

  it('signs with the AWS environment for trusted entries without a key pair, and refuses to for team entries', async () => {
    const env = { AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET };
    const trusted = new S3Destination({ ambientCredentials: true, env });
    const guarded = new S3Destination({ ambientCredentials: false, env, egress: { allowedHosts: [`127.0.0.1:${fake.port}`] } });
    const ambient = { s3_bucket_name: 'team-logs', s3_region_name: 'eu-west-1', s3_endpoint_url: fake.url };
    expect(await trusted.send([item('call-e:s3')], parse(ambient, trusted))).toEqual({ ok: true });
    expect(await guarded.send([item('call-f:s3')], parse(ambient, guarded))).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('required for an entry set through the API') as unknown });
    expect(await guarded.checkHealth(parse(ambient, guarded))).toMatchObject({ healthy: false });
    const none = new S3Destination({ ambientCredentials: true, env: {} });
    expect(await none.send([item('call-g:s3')], parse(ambient, none))).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('no AWS credentials') as unknown });
    await Promise.all([trusted.close(), guarded.close(), none.close()]);
  });

  it('goes through the SSRF guard for team entries: a loopback endpoint is blocked', async () => {
    const guarded = new S3Destination({ egress: { allowedHosts: [] } });
    expect(await guarded.send([item('call-s:s3')], parse(vars(), guarded))).toMatchObject({ ok: false, retryable: false, error: expect.stringMatching(/^blocked: /) as unknown });
    expect(await guarded.checkHealth(parse(vars(), guarded))).toMatchObject({ healthy: false, details: expect.stringMatching(/^blocked: /) as unknown });
    await guarded.close();
  });

  it('keeps the secret and session token out of everything it sends but the signature', async () => {
    const temporary = parse(vars({ s3_aws_access_key_id: 'ASIATEMPORARY0000001', s3_aws_session_token: TOKEN }));
    await destination.send([item('call-10:s3', { model_parameters: { s3_aws_secret_access_key: SECRET } })], temporary);
    await destination.checkHealth(temporary);
    expect(fake.requests.length).toBe(2);
    for (const request of fake.requests) {
      expect(request.text).not.toContain(SECRET);
      expect(JSON.stringify(request.headers)).not.toContain(SECRET);
      expect(request.text).not.toContain(TOKEN);
    }
  });

  describe('checkHealth (HeadBucket, nothing written)', () => {
    it('is healthy when the credentials reach the bucket', async () => {
      expect(await destination.checkHealth(settings)).toEqual({ healthy: true, details: 'S3 credentials can access bucket team-logs in eu-west-1' });
      expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['HEAD /team-logs']);
      expect(fake.objects('team-logs')).toHaveLength(0);
    });

    it('is unhealthy for a wrong secret, a wrong region, a missing bucket, denied access and an unreachable endpoint', async () => {
      expect(await destination.checkHealth(parse(vars({ s3_aws_secret_access_key: 'wrong' })))).toEqual({
        healthy: false,
        details: 'S3 refused access to bucket team-logs (HTTP 403): check the credentials and that they may s3:ListBucket on it',
      });
      expect(await destination.checkHealth(parse(vars({ s3_region_name: 'us-west-2' })))).toEqual({
        healthy: false,
        details: 'bucket team-logs is in region eu-west-1, not us-west-2: set s3_region_name',
      });
      expect(await destination.checkHealth(parse(vars({ s3_bucket_name: 'missing-bucket' })))).toEqual({ healthy: false, details: 'bucket missing-bucket not found' });
      fake.denyAccess('team-logs');
      expect(await destination.checkHealth(settings)).toMatchObject({ healthy: false, details: expect.stringContaining('HTTP 403') as unknown });
      await fake.refuseConnections();
      expect(await destination.checkHealth(settings)).toEqual({
        healthy: false,
        details: expect.stringMatching(/^cannot reach S3 for bucket team-logs: (ECONNREFUSED|ECONNRESET)$/) as unknown,
      });
      expect(fake.puts).toHaveLength(0);
    });
  });

  it("builds AWS's URLs as LiteLLM does: virtual-hosted by default, path-style for dotted names and custom endpoints", () => {
    const base = { bucket: 'logs', region: 'eu-west-1', endpoint: null, virtualHosted: false };
    expect(bucketUrl(base, 'a/b c.json').href).toBe('https://logs.s3.eu-west-1.amazonaws.com/a/b%20c.json');
    expect(bucketUrl({ ...base, bucket: 'my.logs' }, 'k').href).toBe('https://s3.eu-west-1.amazonaws.com/my.logs/k');
    expect(bucketUrl({ ...base, region: 'cn-north-1' }, 'k').href).toBe('https://logs.s3.cn-north-1.amazonaws.com.cn/k');
    expect(bucketUrl({ ...base, endpoint: 'http://minio:9000' }, 'k').href).toBe('http://minio:9000/logs/k');
    expect(bucketUrl({ ...base, endpoint: 'https://r2.example.com', virtualHosted: true }, 'k').href).toBe('https://logs.r2.example.com/k');
  });

  it("the fake S3 serves the AWS SDK's own client: PutObject, HeadBucket, ListObjectsV2, GetObject, and refuses a bad signature", async () => {
    const client = new S3Client({
      endpoint: fake.url,
      forcePathStyle: true,
      region: 'eu-west-1',
      credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET },
    });
    await client.send(new HeadBucketCommand({ Bucket: 'team-logs' }));
    await client.send(new PutObjectCommand({ Bucket: 'team-logs', Key: 'dir/sdk object=1.json', Body: '{"from":"sdk"}\n', ContentType: 'application/json' }));
    // What the gateway wrote reads back through the SDK too.
    await destination.send([item('call-sdk:s3', { startTime: 1_767_225_600 })], settings);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'team-logs', Prefix: 'litellm/' }));
    expect(listed.Contents?.map((c) => c.Key)).toEqual(['litellm/prod/2026-01-01/time-00-00-00-000000_chatcmpl-call-sdk.json']);
    const got = await client.send(new GetObjectCommand({ Bucket: 'team-logs', Key: listed.Contents![0].Key }));
    expect(JSON.parse(await got.Body!.transformToString())).toMatchObject({ litellm_call_id: 'call-sdk' });
    expect(fake.objects('team-logs').find((o) => o.key === 'dir/sdk object=1.json')?.text).toBe('{"from":"sdk"}\n');
    const wrong = new S3Client({ endpoint: fake.url, forcePathStyle: true, region: 'eu-west-1', credentials: { accessKeyId: KEY_ID, secretAccessKey: 'wrong' } });
    await expect(wrong.send(new PutObjectCommand({ Bucket: 'team-logs', Key: 'x', Body: 'x' }))).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
    await expect(client.send(new HeadBucketCommand({ Bucket: 'nope-bucket' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    client.destroy();
    wrong.destroy();
  });
});
