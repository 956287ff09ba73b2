import { AppException } from '../errors';
import type { JsonLimits } from './json-limits';
import { parseLenientJson } from './lenient-json';

const LIMITS: JsonLimits = { maxDepth: 128, maxMembers: 100_000 };

describe(parseLenientJson.name, () => {
  it('accepts the seed’s key-logging body with # comments', () => {
    const body = `{
    "metadata": {
        "logging": [{
            "callback_name": "langfuse", # "otel", "gcs_bucket"
            "callback_type": "success", # "success", "failure", "success_and_failure"
            "callback_vars": {
                "langfuse_public_key": "os.environ/LANGFUSE_PUBLIC_KEY", # [RECOMMENDED] reference key in proxy environment
                "langfuse_host": "https://cloud.langfuse.com"
            }
        }]
    }
}`;
    expect(parseLenientJson(body, LIMITS)).toEqual({
      metadata: {
        logging: [
          {
            callback_name: 'langfuse',
            callback_type: 'success',
            callback_vars: { langfuse_public_key: 'os.environ/LANGFUSE_PUBLIC_KEY', langfuse_host: 'https://cloud.langfuse.com' },
          },
        ],
      },
    });
  });

  it('accepts trailing commas (the seed’s GCS chat example) but keeps # and commas inside strings', () => {
    expect(parseLenientJson('{"user": "hello", "note": "a # b, }",\n }', LIMITS)).toEqual({ user: 'hello', note: 'a # b, }' });
    expect(parseLenientJson('[1, 2,]', LIMITS)).toEqual([1, 2]);
    expect(parseLenientJson('{"q": "say \\"hi\\" # not a comment"}', LIMITS)).toEqual({ q: 'say "hi" # not a comment' });
  });

  it('still rejects what is not JSON', () => {
    expect(() => parseLenientJson('{"team_id": ', LIMITS)).toThrow();
    expect(() => parseLenientJson("{'single': 'quotes'}", LIMITS)).toThrow();
  });
});

describe('parseLenientJson edge cases', () => {
  it('drops a trailing comma followed by a comment', () => {
    expect(parseLenientJson('{"a": 1, # last one\n}', LIMITS)).toEqual({ a: 1 });
  });

  it('obeys the depth and member limits: what the strict parse may not take, the retry may not either', () => {
    const deep = `{"a": 1, # a comment makes the strict parse fail\n "deep": ${'['.repeat(200)}${']'.repeat(200)}}`;
    expect(() => parseLenientJson(deep, LIMITS)).toThrow(AppException);
    expect(() => parseLenientJson(deep, LIMITS)).toThrow(/more than 128 levels deep/);
    const wide = `[${'1,'.repeat(200)}]`;
    expect(() => parseLenientJson(wide, { maxDepth: 128, maxMembers: 100 })).toThrow(/more than 100 members/);
    expect(parseLenientJson(wide, LIMITS)).toHaveLength(200);
  });
});
