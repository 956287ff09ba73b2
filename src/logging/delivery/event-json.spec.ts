import { fillPlaceholders, jsonOf, jsonOfValue, jsonReusing, placeholder, shareJson } from './event-json';

describe('event-json', () => {
  const long = 'héllo "quoted" \u2028 \n '.repeat(200);
  const messages = [{ role: 'user', content: long }, { role: 'assistant', content: null }];
  const metadata = { a: 1, nested: { b: [1, 2, { c: long }] }, gone: undefined };

  it('splices kept texts and produces exactly JSON.stringify of the whole', () => {
    jsonOf(messages);
    jsonOf(metadata);
    const bodies: object[] = [
      { id: 'x', input: messages, output: null, metadata, when: new Date(0), skipped: undefined },
      { input: { messages }, metadata, tags: ['a'] },
      { first: metadata, second: metadata, third: messages, text: 'a string holding "gatehouse-json-" and \\' },
      {},
      [messages, metadata],
    ];
    for (const body of bodies) expect(jsonReusing(body)).toBe(JSON.stringify(body));
  });

  it('keeps the text of a large object (the same string each time) and serialises primitives as JSON.stringify does', () => {
    const value = { k: long };
    expect(jsonOf(value)).toBe(JSON.stringify(value));
    expect(jsonOf(value)).toBe(jsonOf(value));
    shareJson({ big: 1n, text: long }); // does not throw
    expect(jsonOf({ k: 'v' })).toBe('{"k":"v"}');
    expect(jsonOfValue(undefined)).toBeUndefined();
    expect(jsonOfValue('s')).toBe('"s"');
    expect(jsonOfValue(null)).toBe('null');
  });

  it('fills placeholders and leaves unknown ones as they are', () => {
    const outline = JSON.stringify({ a: placeholder(7), b: placeholder(8) });
    expect(fillPlaceholders(outline, (n) => (n === 7 ? '{"x":1}' : undefined))).toBe(`{"a":{"x":1},"b":"${placeholder(8)}"}`);
  });

  it('throws as JSON.stringify does for what cannot be serialised', () => {
    expect(() => jsonOf({ big: 1n })).toThrow(TypeError);
  });
});
