import { parseLenientJson } from './lenient-json';

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
    expect(parseLenientJson(body)).toEqual({
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
    expect(parseLenientJson('{"user": "hello", "note": "a # b, }",\n }')).toEqual({ user: 'hello', note: 'a # b, }' });
    expect(parseLenientJson('[1, 2,]')).toEqual([1, 2]);
    expect(parseLenientJson('{"q": "say \\"hi\\" # not a comment"}')).toEqual({ q: 'say "hi" # not a comment' });
  });

  it('still rejects what is not JSON', () => {
    expect(() => parseLenientJson('{"team_id": ')).toThrow();
    expect(() => parseLenientJson("{'single': 'quotes'}")).toThrow();
  });
});

describe('parseLenientJson edge cases', () => {
  it('drops a trailing comma followed by a comment', () => {
    expect(parseLenientJson('{"a": 1, # last one\n}')).toEqual({ a: 1 });
  });
});
