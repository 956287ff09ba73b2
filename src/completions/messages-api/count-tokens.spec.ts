import { AppException } from '../../errors';
import { estimateInputTokens } from './count-tokens';

describe('estimateInputTokens', () => {
  it('counts the characters of every text the model reads, a quarter token each, plus four per turn', () => {
    const body = { model: 'm', system: 'Be brief.', messages: [{ role: 'user', content: 'Hello there, how are you?' }] };
    expect(estimateInputTokens(body)).toEqual({ input_tokens: Math.ceil((9 + 4 + 25) / 4) + 4 });
  });

  it("reads content blocks and a tool's schema with its keys; images and PDFs at Anthropic's size figures", () => {
    const image = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'A'.repeat(100_000) } };
    const withImage = estimateInputTokens({ model: 'm', messages: [{ role: 'user', content: [image] }] });
    expect(withImage.input_tokens).toBe(1600 + Math.ceil(4 / 4) + 4);
    const pdf = { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBE' } };
    expect(estimateInputTokens({ model: 'm', messages: [{ role: 'user', content: [pdf] }] }).input_tokens).toBe(3000 + 1 + 4);
    const tool = { name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } };
    const plain = estimateInputTokens({ model: 'm', messages: [] }).input_tokens;
    // name + "get_weather" + input_schema + type + "object" + properties + city + type + "string"
    const schemaChars = 4 + 11 + 12 + 4 + 6 + 10 + 4 + 4 + 6;
    expect(estimateInputTokens({ model: 'm', messages: [], tools: [tool] }).input_tokens).toBe(plain + Math.ceil(schemaChars / 4));
  });

  it('refuses a body without a model or messages, naming the field', () => {
    expect(() => estimateInputTokens({ messages: [] })).toThrow(AppException);
    expect(() => estimateInputTokens({ model: 'm' })).toThrow(/`messages` is required/);
  });
});
