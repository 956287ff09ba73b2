import { cacheKey, canonicalJson, canonicalRequest } from './cache-key';

describe('canonicalJson', () => {
  it('sorts object keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1, 2], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,1,2]},"b":1}');
    expect(canonicalJson({ b: 2, a: 1 })).toBe(canonicalJson({ a: 1, b: 2 }));
  });

  it('agrees with JSON.stringify on values and escapes', () => {
    const value = { s: 'quote " backslash \\ newline \n unicode é 🙂', n: 1.5, t: true, f: false, z: null, list: [null, 'a'] };
    expect(JSON.parse(canonicalJson(value))).toEqual(value);
    expect(canonicalJson({ skip: undefined, keep: 1 })).toBe('{"keep":1}');
    expect(canonicalJson([undefined, Number.NaN, Infinity])).toBe('[null,null,null]');
  });
});

describe('canonicalRequest', () => {
  const base = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }], temperature: 0.2 };

  it('ignores who asks and how the answer is delivered', () => {
    const same = canonicalRequest(base);
    expect(canonicalRequest({ ...base, user: 'alice', metadata: { trace_id: 't' }, stream: true })).toBe(same);
    expect(canonicalRequest({ ...base, stream_options: { include_usage: true }, cache: { ttl: 5 } })).toBe(same);
    expect(canonicalRequest({ ...base, 'no-log': true, timeout: 30 })).toBe(same);
  });

  it('a top-level null is the same as leaving the field out', () => {
    expect(canonicalRequest({ ...base, seed: null })).toBe(canonicalRequest(base));
  });

  it('every parameter that changes the answer changes the key, known or not', () => {
    const same = canonicalRequest(base);
    for (const extra of [
      { temperature: 0.3 },
      { top_p: 0.5 },
      { max_tokens: 10 },
      { tools: [{ type: 'function', function: { name: 'f' } }] },
      { tool_choice: 'auto' },
      { response_format: { type: 'json_object' } },
      { seed: 1 },
      { stop: ['\n'] },
      { n: 2 },
      { reasoning_effort: 'high' },
      { model: 'gpt-4o-mini' },
      { messages: [{ role: 'user', content: 'Hi!' }] },
    ]) {
      expect(canonicalRequest({ ...base, ...extra })).not.toBe(same);
    }
  });
});

describe('cacheKey', () => {
  const body = { model: 'm', messages: [{ role: 'user', content: 'x' }] };

  it('is a SHA-256 hex digest, stable for the same request', () => {
    const key = cacheKey('chat', 'team:a', body);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey('chat', 'team:a', { messages: body.messages, model: 'm' })).toBe(key);
  });

  it('differs per namespace and per endpoint', () => {
    const key = cacheKey('chat', 'team:a', body);
    expect(cacheKey('chat', 'team:b', body)).not.toBe(key);
    expect(cacheKey('chat', 'shared', body)).not.toBe(key);
    expect(cacheKey('embeddings', 'team:a', body)).not.toBe(key);
    expect(cacheKey('completions', 'team:a', body)).not.toBe(key);
  });

  it('keys a text completion by its prompt', () => {
    const text = { model: 'm', prompt: 'Say hello', max_tokens: 5 };
    const key = cacheKey('completions', 'team:a', text);
    expect(cacheKey('completions', 'team:a', { ...text, stream: true })).toBe(key);
    expect(cacheKey('completions', 'team:a', { ...text, prompt: 'Say hello!' })).not.toBe(key);
    expect(cacheKey('completions', 'team:a', { ...text, prompt: ['Say hello'] })).not.toBe(key);
  });

  it('cannot be forged by moving text between namespace and body', () => {
    expect(cacheKey('chat', 'team:a', body)).not.toBe(cacheKey('chat', 'team:', { ...body, model: 'am' }));
  });
});
