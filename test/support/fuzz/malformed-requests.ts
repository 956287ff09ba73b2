import fc from 'fast-check';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';

/**
 * Generated requests for every route of a running gateway (issue 23): bodies that are bad JSON, nested or wide
 * past the limits, hold huge numbers, wrong types, NULs, control characters and prototype keys; headers with
 * two keys, wrong content types and encodings, odd request ids; query strings with repeats, array syntax,
 * unicode and broken escapes. Most are meant to be refused; some are valid on purpose, so the routes' own
 * code runs on near-valid input too.
 */

/** A route as the router knows it: Express path syntax (`/team/:team_id/callback`). */
export interface FuzzRoute {
  readonly method: string;
  readonly path: string;
}

export interface FuzzRequest {
  readonly method: string;
  /** Path and query, already encoded as they go on the wire. */
  readonly path: string;
  readonly headers: [string, string][];
  readonly body?: Buffer;
  /** The route template and the generator's choices, for reports. */
  readonly route: string;
  readonly shape: string;
}

export interface FuzzContext {
  readonly routes: readonly FuzzRoute[];
  readonly masterKey: string;
  /** A key without admin rights or logging. */
  readonly plainKey: string;
  /** Ids that exist (teams, models, callback names): near-valid requests reach further with them. */
  readonly knownIds: readonly string[];
}

const FIELD_NAMES = [
  'model', 'messages', 'role', 'content', 'user', 'metadata', 'logging', 'logging_settings', 'callback_name', 'callback_type',
  'callback_vars', 'langfuse_public_key', 'langfuse_secret_key', 'langfuse_host', 'langfuse_sample_rate', 'turn_off_message_logging',
  'key', 'keys', 'key_alias', 'team_id', 'team_ids', 'team_alias', 'models', 'duration', 'max_budget', 'blocked', 'stream',
  'stream_options', 'include_usage', 'input', 'tools', 'tool_choice', 'temperature', 'max_tokens', 'n', 'cache', 'no-log', 'ids',
  'kind', 'limit', 'pii_masking', 'redact_user_api_key_info', 'trace_id', 'tags', 'api_base', 'api_key', 'gcs_bucket_name',
  'gcs_path_service_account', 'otel_endpoint', 'cache_namespace', 'expires', '__proto__', 'constructor', 'prototype',
] as const;

const NASTY_STRINGS = [
  '', ' ', '\u0000', 'a\u0000b', '\r\n', 'line\r\n{"level":"fatal","msg":"forged"}', '\u001b[31mred\u001b[0m', '\u2028\u2029', '\ud800', '\udfff\ud800',
  'os.environ/MASTER_KEY', 'os.environ/DATABASE_URL', '../../../../etc/passwd', "' OR '1'='1' --", '${jndi:ldap://127.0.0.1/x}', '%00', '%E0%A4%A',
  'sk-1234', 'null', 'true', '1e999', '-0', 'NaN', '<script>alert(1)</script>', '😀'.repeat(50), 'x'.repeat(40_000), 'proxy_admin', 'team_admin',
  'langfuse', 'gcs_bucket', 'otel', 'success', 'failure', 'success_and_failure', 'gpt-4', 'fake-openai-endpoint', '30d', '-1s', '999999999999d',
];

const RAW_BODIES = [
  '{', '}', '{"a":', '{"a":1,}', "{'a':1}", '[1,2', 'null', 'true', '"str"', '42', '1e999999', '-', '{"a":1e400}', '{"a":-1e400}', '{"a":-0}',
  '{"model":"gpt-4" # a comment\n}', '\ufeff{}', '{}garbage', '{"a":"\\ud800"}', '{"a":"\\u0000"}', '{"a\\u0000":1}', '{"__proto__":{"isProxyAdmin":true}}',
  '{"constructor":{"prototype":{"polluted":1}}}', '{"a":1,"a":2}', `{"n":${'9'.repeat(400)}}`, `{"n":0.${'0'.repeat(400)}1}`, '{"a":"\\x41"}', '{"a":"\\u12"}',
  '{"model":"gpt-4","messages":[{"role":"user","content":"hi"}],"stream":true}', '{"model":"gpt-4","messages":"not an array"}', '{"model":["gpt-4"]}',
  '[]', '[{}]', '{"keys":[null,1,{}]}', '{"team_ids":"not-a-list"}', '{"metadata":[]}', '{"metadata":null}', '{"callback_vars":[]}',
];

function nestedArrays(depth: number): string {
  return `{"model":"gpt-4","messages":[{"role":"user","content":"hi"}],"deep":${'['.repeat(depth)}${']'.repeat(depth)}}`;
}

const SIZED_BODIES = fc.constantFrom(
  () => nestedArrays(100),
  () => nestedArrays(126),
  () => nestedArrays(127),
  () => nestedArrays(1000),
  () => nestedArrays(5000),
  () => `{"metadata":${'{"a":'.repeat(300)}1${'}'.repeat(300)}}`,
  () => `{"model":"gpt-4","messages":[{"role":"user","content":"hi"}],"logit_bias":[${'0,'.repeat(100_000)}0]}`,
  () => `{"metadata":{${Array.from({ length: 100_001 }, (_, i) => `"k${i}":1`).join(',')}}}`,
  () => `{"model":"gpt-4","messages":[${Array.from({ length: 3000 }, () => '{"role":"user","content":"x"}').join(',')}]}`,
);

const printable = fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code));
const headerText = (maxLength: number) => fc.string({ unit: printable, maxLength });

const stringValue = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
);
const numberValue = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(1e308, -1e308, 2 ** 53 + 2, 2 ** 31, -1, 0, 1.5, 1e-320),
);
const scalar = fc.oneof(stringValue, numberValue, fc.boolean(), fc.constant(null));
const fieldName = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...FIELD_NAMES) }, { weight: 1, arbitrary: stringValue });

const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fieldName, tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** Bodies that a route accepts, mostly with one field made odd: the route's own code runs, not only the boundary's. */
function nearValidBody(ctx: FuzzContext): fc.Arbitrary<Record<string, unknown>> {
  const templates: Record<string, unknown>[] = [
    { model: 'gpt-4', messages: [{ role: 'user', content: 'hello' }] },
    { model: 'fake-openai-endpoint', input: ['a', 'b'] },
    { key_alias: 'fuzz', models: ['gpt-4'], duration: '1h', metadata: { note: 'n' } },
    { team_id: ctx.knownIds[0], metadata: { logging_settings: { turn_off_message_logging: true } } },
    { callback_name: 'langfuse', callback_type: 'success', callback_vars: { langfuse_public_key: 'pk-x', langfuse_secret_key: 'sk-x', langfuse_host: 'https://cloud.langfuse.com' } },
    { keys: ['sk-does-not-exist'] },
    { team_ids: ['no-such-team'] },
    { ids: ['1', '2'] },
  ];
  return fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...templates), fieldName, jsonValue).map(([template, name, value]) => ({ ...template, [name]: value })) },
    { weight: 1, arbitrary: fc.constantFrom(...templates) },
  );
}

type BodyKind = { kind: string; text: string | Buffer };

function bodies(ctx: FuzzContext): fc.Arbitrary<BodyKind> {
  return fc.oneof(
    { weight: 3, arbitrary: jsonValue.map((value) => ({ kind: 'json', text: JSON.stringify(value) ?? 'null' })) },
    { weight: 4, arbitrary: nearValidBody(ctx).map((value) => ({ kind: 'near-valid', text: JSON.stringify(value) })) },
    { weight: 2, arbitrary: fc.constantFrom(...RAW_BODIES).map((text) => ({ kind: 'malformed', text })) },
    { weight: 1, arbitrary: SIZED_BODIES.map((make) => ({ kind: 'sized', text: make() })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ kind: 'bytes', text: Buffer.from(bytes) })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'empty', text: '' }) },
  );
}

const ODD_CONTENT_TYPES = [
  'application/vnd.api+json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=zz', 'application/json; charset=utf-16',
  'application/json; charset=latin1', 'application/json;;;', 'json', '*/*', '', 'application/json; charset="utf-8"; x=y', `application/${'x'.repeat(300)}+json`,
];
/** Mostly JSON, so most bodies get past the type check and into the routes. */
const contentTypes = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
  { weight: 2, arbitrary: fc.constantFrom(...ODD_CONTENT_TYPES) },
);
/** Mostly none; then honest compression; then a header that lies about the bytes, or names an unknown coding. */
const encodings = fc.oneof(
  { weight: 6, arbitrary: fc.constant('identity') },
  { weight: 2, arbitrary: fc.constantFrom('gzip', 'deflate', 'br', 'GZIP') },
  { weight: 2, arbitrary: fc.constantFrom('gzip-lie', 'deflate-lie', 'br-lie', 'zstd-lie', 'x-snappy', 'gzip, gzip') },
);

function encode(body: Buffer, encoding: string): { header: string | null; bytes: Buffer } {
  switch (encoding) {
    case 'identity':
      return { header: null, bytes: body };
    case 'gzip':
      return { header: 'gzip', bytes: gzipSync(body) };
    case 'deflate':
      return { header: 'deflate', bytes: deflateSync(body) };
    case 'br':
      return { header: 'br', bytes: brotliCompressSync(body) };
    case 'GZIP':
      return { header: 'GZIP', bytes: gzipSync(body) };
    default:
      // A header that says compressed over plain bytes, or an encoding nobody supports.
      return { header: encoding.replace(/-lie$/, ''), bytes: body };
  }
}

function authHeaders(ctx: FuzzContext): fc.Arbitrary<{ name: string; pairs: readonly (readonly [string, string])[] }> {
  const bearer = (key: string): [string, string] => ['Authorization', `Bearer ${key}`];
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant({ name: 'master', pairs: [bearer(ctx.masterKey)] }) },
    { weight: 3, arbitrary: fc.constant({ name: 'plain', pairs: [bearer(ctx.plainKey)] }) },
    { weight: 2, arbitrary: fc.constant({ name: 'none', pairs: [] }) },
    { weight: 1, arbitrary: fc.constant({ name: 'two-authorization', pairs: [bearer(ctx.masterKey), bearer('sk-other')] }) },
    { weight: 1, arbitrary: fc.constant({ name: 'disagreeing-headers', pairs: [bearer(ctx.plainKey), ['x-api-key', ctx.masterKey]] }) },
    { weight: 1, arbitrary: fc.constant({ name: 'two-x-api-key', pairs: [['x-api-key', ctx.masterKey], ['x-api-key', ctx.masterKey]] }) },
    { weight: 1, arbitrary: headerText(80).map((text) => ({ name: 'junk', pairs: [['Authorization', text] as const] })) },
  );
}

const requestIds = fc.oneof(
  fc.constant(null),
  fc.constantFrom('trace-1.a:b', 'x'.repeat(300), '{"level":"fatal"}', '../../x', '%0d%0a'),
  headerText(60),
);

const QUERY_NAMES = ['key', 'team_id', 'key_alias', 'page', 'size', 'return_full_object', 'kind', 'limit', 'model'];
const queryStrings = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...QUERY_NAMES), stringValue).map(([name, value]) => `?${name}=${encodeURIComponent(value.replace(/[\ud800-\udfff]/g, ''))}`) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...QUERY_NAMES), headerText(10), headerText(10)).map(([name, a, b]) => `?${name}=${encodeURIComponent(a)}&${name}=${encodeURIComponent(b)}`) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('?key[]=a', '?key[0]=a&key[1]=b', '?team_id[a]=1', '?%zz=%zz', '?a=%00', '?page=-1&size=1e9', '?&&=&', '?key=%E0%A4%A',
      '?page=0x10', `?key=${'a'.repeat(5000)}`, '?team_id=%C3%A9%F0%9F%98%80', '?limit=1&limit=2&limit=3', '?return_full_object=maybe', '?__proto__=1'),
  },
  { weight: 1, arbitrary: fc.webQueryParameters().map((query) => `?${query}`) },
);

function pathParameter(ctx: FuzzContext, name: string): fc.Arbitrary<string> {
  const known = name === 'callback_name' ? ['langfuse', 'gcs_bucket', 'otel', 'langsmith'] : name === 'model' ? ['gpt-4', 'fake-openai-endpoint'] : ctx.knownIds;
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...known) },
    { weight: 2, arbitrary: stringValue.map((value) => encodeURIComponent(value.replace(/[\ud800-\udfff]/g, '')) || 'x') },
    { weight: 1, arbitrary: fc.constantFrom('%00', '..%2F..', '%E0%A4%A', '%2e%2e', 'a'.repeat(400), '%0D%0A', '%1B%5B31m') },
  );
}

/** One generated request for one of `ctx.routes`. */
export function malformedRequests(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const route = fc.constantFrom(...ctx.routes).chain((picked) => {
    const names = [...picked.path.matchAll(/:(\w+)/g)].map((match) => match[1]);
    return fc.tuple(fc.constant(picked), fc.tuple(...names.map((name) => pathParameter(ctx, name))), fc.constant(names));
  });
  return fc
    .record({
      route,
      // Mostly the route's own method; now and then another one.
      otherMethod: fc.oneof({ weight: 7, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH') }),
      query: queryStrings,
      auth: authHeaders(ctx),
      // `freq`: one in that many is null.
      body: fc.option(bodies(ctx), { freq: 6 }),
      contentType: contentTypes,
      encoding: encodings,
      requestId: requestIds,
      extra: fc.option(fc.tuple(fc.constantFrom('cache-control', 'litellm-disable-message-redaction', 'x-litellm-call-id', 'accept-encoding', 'content-language'), headerText(40)), { freq: 2 }),
    })
    .map(({ route: [picked, values, names], otherMethod, query, auth, body, contentType, encoding, requestId, extra }) => {
      let path = picked.path;
      names.forEach((name, index) => (path = path.replace(`:${name}`, () => values[index])));
      const method = otherMethod ?? picked.method.toUpperCase();
      const headers: [string, string][] = auth.pairs.map(([name, value]) => [name, value]);
      let bytes: Buffer | undefined;
      const shape: string[] = [`auth=${auth.name}`];
      if (body !== null) {
        const encoded = encode(Buffer.isBuffer(body.text) ? body.text : Buffer.from(body.text, 'utf8'), encoding);
        bytes = encoded.bytes;
        if (contentType !== '') headers.push(['Content-Type', contentType]);
        if (encoded.header !== null) headers.push(['Content-Encoding', encoded.header]);
        shape.push(`body=${body.kind}`, `type=${contentType || 'none'}`, `encoding=${encoding}`);
      }
      if (requestId !== null) headers.push(['X-Request-Id', requestId]);
      if (extra !== null) headers.push(extra);
      if (query !== '') shape.push('query');
      return { method, path: `${path}${query}`, headers, body: bytes, route: `${picked.method.toUpperCase()} ${picked.path}`, shape: shape.join(' ') };
    });
}
