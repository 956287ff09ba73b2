import { AppException } from '../../../errors';
import { converseRequest } from './converse-request';
import { parseBedrockModel } from './model-id';

const CLAUDE = parseBedrockModel('us.anthropic.claude-3-5-sonnet-20241022-v2:0');
const NOVA = parseBedrockModel('amazon.nova-pro-v1:0');
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const weather = { type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

function refusal(run: () => unknown): { param: string | null; message: string; status: number } {
  try {
    run();
  } catch (error) {
    if (error instanceof AppException) return { param: error.param, message: error.message, status: error.status };
    throw error;
  }
  throw new Error('expected a 400');
}

describe('converseRequest (OpenAI chat → Bedrock Converse)', () => {
  it('puts system and developer messages in `system`, merges consecutive turns, maps inference settings', () => {
    const request = converseRequest(
      {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
          { role: 'user', content: 'Hello' },
          { role: 'user', content: [{ type: 'text', text: 'again' }] },
          { role: 'assistant', content: 'Bonjour' },
          { role: 'user', content: 'Thanks' },
        ],
        max_tokens: 100,
        temperature: 0.2,
        top_p: 0.9,
        stop: ['END', ''],
        user: 'someone',
        stream_options: { include_usage: true },
      },
      CLAUDE,
      {},
    );
    expect(request).toEqual({
      system: [{ text: 'Be brief.' }, { text: 'Answer in French.' }],
      messages: [
        { role: 'user', content: [{ text: 'Hello' }, { text: 'again' }] },
        { role: 'assistant', content: [{ text: 'Bonjour' }] },
        { role: 'user', content: [{ text: 'Thanks' }] },
      ],
      inferenceConfig: { maxTokens: 100, temperature: 0.2, topP: 0.9, stopSequences: ['END'] },
    });
    expect(converseRequest({ messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 7, max_tokens: 9, stop: 'S' }, CLAUDE, {}).inferenceConfig).toEqual({ maxTokens: 7, stopSequences: ['S'] });
  });

  it('turns a tool-call round trip into toolConfig, toolUse and toolResult blocks (tool results merged into one user turn)', () => {
    const request = converseRequest(
      {
        messages: [
          { role: 'user', content: 'Weather in Paris and Rome?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
              { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
          { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'rain' }] },
        ],
        tools: [weather],
        tool_choice: 'required',
      },
      CLAUDE,
      {},
    );
    expect(request.messages).toEqual([
      { role: 'user', content: [{ text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { toolUse: { toolUseId: 'call_1', name: 'get_weather', input: { city: 'Paris' } } },
          { toolUse: { toolUseId: 'call_2', name: 'get_weather', input: {} } },
        ],
      },
      {
        role: 'user',
        content: [
          { toolResult: { toolUseId: 'call_1', content: [{ text: 'sunny' }] } },
          { toolResult: { toolUseId: 'call_2', content: [{ text: 'rain' }] } },
        ],
      },
    ]);
    expect(request.toolConfig).toEqual({
      tools: [{ toolSpec: { name: 'get_weather', description: 'Weather now', inputSchema: { json: weather.function.parameters } } }],
      toolChoice: { any: {} },
    });
  });

  it('maps tool_choice auto, a named function and none (tools left out when the conversation never used them)', () => {
    const base = { messages: [{ role: 'user', content: 'hi' }], tools: [weather] };
    expect(converseRequest({ ...base, tool_choice: 'auto' }, CLAUDE, {}).toolConfig).toMatchObject({ toolChoice: { auto: {} } });
    expect(converseRequest({ ...base, tool_choice: { type: 'function', function: { name: 'get_weather' } } }, CLAUDE, {}).toolConfig).toMatchObject({ toolChoice: { tool: { name: 'get_weather' } } });
    expect(converseRequest({ ...base, tool_choice: 'none' }, CLAUDE, {}).toolConfig).toBeUndefined();
  });

  it('sends data-URL images as image blocks with their format and base64 bytes; cache_control becomes a cache point', () => {
    const request = converseRequest(
      {
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'Long context', cache_control: { type: 'ephemeral' } }] },
          { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }] },
        ],
      },
      CLAUDE,
      {},
    );
    expect(request.system).toEqual([{ text: 'Long context' }, { cachePoint: { type: 'default' } }]);
    expect(request.messages).toEqual([{ role: 'user', content: [{ text: 'What is this?' }, { image: { format: 'png', source: { bytes: PNG } } }] }]);
  });

  it('puts top_k and reasoning where each family reads them, and passes guardrailConfig through (the caller over the deployment)', () => {
    const claude = converseRequest({ messages: [{ role: 'user', content: 'x' }], top_k: 40, reasoning_effort: 'low' }, CLAUDE, { guardrailConfig: { guardrailIdentifier: 'g', guardrailVersion: '1' } });
    expect(claude.additionalModelRequestFields).toEqual({ top_k: 40, thinking: { type: 'enabled', budget_tokens: 1024 } });
    expect(claude.guardrailConfig).toEqual({ guardrailIdentifier: 'g', guardrailVersion: '1' });
    expect(converseRequest({ messages: [{ role: 'user', content: 'x' }], top_k: 40 }, NOVA, {}).additionalModelRequestFields).toEqual({ inferenceConfig: { topK: 40 } });
    // A deployment's top_k (litellm_params) applies unless the caller sets one.
    expect(converseRequest({ messages: [{ role: 'user', content: 'x' }] }, CLAUDE, { topK: 5 }).additionalModelRequestFields).toEqual({ top_k: 5 });
    expect(converseRequest({ messages: [{ role: 'user', content: 'x' }], top_k: 9 }, CLAUDE, { topK: 5 }).additionalModelRequestFields).toEqual({ top_k: 9 });
    expect(converseRequest({ messages: [{ role: 'user', content: 'x' }], top_k: 40 }, parseBedrockModel('meta.llama3-1-70b-instruct-v1:0'), {}).additionalModelRequestFields).toBeUndefined();
    expect(converseRequest({ messages: [{ role: 'user', content: 'x' }], guardrailConfig: { guardrailIdentifier: 'mine' } }, CLAUDE, { guardrailConfig: { guardrailIdentifier: 'g' } }).guardrailConfig).toEqual({ guardrailIdentifier: 'mine' });
  });

  it.each([
    ['an image by URL', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }] }, 'messages[0].content[0].image_url.url'],
    ['an image of another type', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/tiff;base64,AAAA' } }] }] }, 'messages[0].content[0].image_url.url'],
    ['an audio part', { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] }, 'messages[0].content[0].type'],
    ['an unknown role', { messages: [{ role: 'function', content: 'x' }] }, 'messages[0].role'],
    ['a message that is not an object', { messages: ['hi'] }, 'messages[0]'],
    ['tool-call arguments that are not JSON', { messages: [{ role: 'assistant', tool_calls: [{ id: 'c', function: { name: 'f', arguments: '{oops' } }] }] }, 'messages[0].tool_calls[0].function.arguments'],
    ['a tool message without tool_call_id', { messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id'],
    ['n > 1', { messages: [{ role: 'user', content: 'x' }], n: 2 }, 'n'],
    ['a JSON response format', { messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_object' } }, 'response_format'],
    ['a temperature that is not a number', { messages: [{ role: 'user', content: 'x' }], temperature: 'hot' }, 'temperature'],
    ['a non-function tool', { messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'web_search' }] }, 'tools[0].type'],
    ['tool_choice none after tools were used', { messages: [{ role: 'assistant', tool_calls: [{ id: 'c', function: { name: 'f', arguments: '{}' } }] }], tools: [weather], tool_choice: 'none' }, 'tool_choice'],
  ])('refuses %s with a 400 naming the field', (_label, body, param) => {
    const refused = refusal(() => converseRequest(body, CLAUDE, {}));
    expect(refused.status).toBe(400);
    expect(refused.param).toBe(param);
    expect(refused.message.startsWith(`\`${param}\``)).toBe(true);
  });
});
