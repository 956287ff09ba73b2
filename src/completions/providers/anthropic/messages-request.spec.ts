import { AppException } from '../../../errors';
import { DEFAULT_MAX_TOKENS, messagesRequest } from './messages-request';

const MODEL = 'claude-sonnet-4-5';
const build = (body: Record<string, unknown>, stream = false): Record<string, unknown> => messagesRequest(body, MODEL, stream);
const user = (content: unknown): Record<string, unknown> => ({ role: 'user', content });

/** The 400 a body gets: its param and message. */
function refusal(body: Record<string, unknown>): { param: string | null; message: string } {
  try {
    build(body);
  } catch (error) {
    expect(error).toBeInstanceOf(AppException);
    const exception = error as AppException;
    expect([exception.status, exception.code]).toEqual([400, 'validation_failed']);
    return { param: exception.param, message: exception.message };
  }
  throw new Error('the body was accepted');
}

describe(messagesRequest.name, () => {
  it('system and developer messages become the top-level system, wherever they stand; consecutive turns of one role are merged', () => {
    expect(
      build({
        messages: [{ role: 'system', content: 'Be brief.' }, user('Hello'), { role: 'developer', content: [{ type: 'text', text: 'Use French.' }] }, user('Again'), { role: 'assistant', content: 'Bonjour' }],
      }),
    ).toEqual({
      model: MODEL,
      system: [
        { type: 'text', text: 'Be brief.' },
        { type: 'text', text: 'Use French.' },
      ],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Hello' }, { type: 'text', text: 'Again' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Bonjour' }] },
      ],
      max_tokens: DEFAULT_MAX_TOKENS,
    });
  });

  it('maps max_tokens (max_completion_tokens first), temperature, top_p, top_k, stop (whitespace-only sequences dropped), user and stream', () => {
    expect(build({ messages: [user('hi')], max_tokens: 10, max_completion_tokens: 20, temperature: 0.5, top_p: 0.9, top_k: 40, stop: ['END', ' ', '\n'], user: 'u-42' }, true)).toMatchObject({
      max_tokens: 20,
      temperature: 0.5,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ['END'],
      metadata: { user_id: 'u-42' },
      stream: true,
    });
    expect(build({ messages: [user('hi')], stop: 'STOP', max_tokens: 7 })).toMatchObject({ stop_sequences: ['STOP'], max_tokens: 7 });
    expect(build({ messages: [user('hi')], stop: ' ' })).not.toHaveProperty('stop_sequences');
  });

  it('an email address or phone number as `user` is not sent (Anthropic wants an opaque id)', () => {
    expect(build({ messages: [user('hi')], user: 'jane@example.com' })).not.toHaveProperty('metadata');
    expect(build({ messages: [user('hi')], user: '+44 20 7946 0958' })).not.toHaveProperty('metadata');
    expect(build({ messages: [user('hi')], user: '20250929' }).metadata).toEqual({ user_id: '20250929' });
  });

  it('leaves out what the caller sent that is not Anthropic\'s: stream_options, gateway metadata, seed, n: 1', () => {
    const request = build({ messages: [user('hi')], stream_options: { include_usage: true }, metadata: { tags: ['a'] }, seed: 3, n: 1, logprobs: false, presence_penalty: 0 }, true);
    expect(Object.keys(request).sort()).toEqual(['max_tokens', 'messages', 'model', 'stream']);
  });

  it('a conversation of system messages only still has a user turn (Anthropic requires one message)', () => {
    expect(build({ messages: [{ role: 'system', content: 'You are terse.' }] }).messages).toEqual([{ role: 'user', content: [{ type: 'text', text: '.' }] }]);
  });

  it('images: a data URL as a base64 source (image/jpg read as image/jpeg), an http(s) URL as a url source', () => {
    const request = build({
      messages: [
        user([
          { type: 'text', text: 'Look' },
          { type: 'image_url', image_url: { url: 'data:image/jpg;base64,/9j/4AAQ' } },
          { type: 'image_url', image_url: 'https://example.com/a.png' },
        ]),
      ],
    });
    expect(request.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look' },
          { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
        ],
      },
    ]);
  });

  it('tool calls become tool_use blocks, tool results tool_result blocks of one user turn, with the user text after them', () => {
    const request = build({
      messages: [
        user('Weather?'),
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            { id: 'toolu_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'toolu_b', type: 'function', function: { name: 'now', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_a', content: '18°C' },
        { role: 'tool', tool_call_id: 'toolu_b', content: [{ type: 'text', text: 'noon' }] },
        user('Thanks'),
      ],
    });
    expect(request.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'toolu_a', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_b', name: 'now', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_a', content: '18°C' },
          { type: 'tool_result', tool_use_id: 'toolu_b', content: [{ type: 'text', text: 'noon' }] },
          { type: 'text', text: 'Thanks' },
        ],
      },
    ]);
  });

  it('tools and tool_choice: auto, none, required → any, a named function → tool; parallel_tool_calls: false rides on the choice', () => {
    const tools = [
      { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
      { type: 'function', function: { name: 'now' } },
    ];
    const messages = [user('hi')];
    expect(build({ messages, tools }).tools).toEqual([
      { name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
      { name: 'now', input_schema: { type: 'object', properties: {} } },
    ]);
    expect(build({ messages, tools })).not.toHaveProperty('tool_choice');
    expect(build({ messages, tools, tool_choice: 'auto' }).tool_choice).toEqual({ type: 'auto' });
    expect(build({ messages, tools, tool_choice: 'none' }).tool_choice).toEqual({ type: 'none' });
    expect(build({ messages, tools, tool_choice: 'required' }).tool_choice).toEqual({ type: 'any' });
    expect(build({ messages, tools, tool_choice: { type: 'function', function: { name: 'now' } } }).tool_choice).toEqual({ type: 'tool', name: 'now' });
    expect(build({ messages, tools, parallel_tool_calls: false }).tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    expect(build({ messages, tools, tool_choice: 'required', parallel_tool_calls: false }).tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
    // Without tools a choice means nothing to Anthropic, which refuses it.
    expect(build({ messages, tool_choice: 'auto' })).not.toHaveProperty('tool_choice');
  });

  it('prompt caching: cache_control on a part goes on its block, on a whole message on its last block, on a tool on the tool', () => {
    const ephemeral = { type: 'ephemeral' };
    const request = build({
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'Long context', cache_control: ephemeral }] },
        { role: 'user', content: 'Question', cache_control: ephemeral },
      ],
      tools: [{ type: 'function', function: { name: 'f' }, cache_control: ephemeral }],
    });
    expect(request.system).toEqual([{ type: 'text', text: 'Long context', cache_control: ephemeral }]);
    expect(request.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Question', cache_control: ephemeral }] }]);
    expect(request.tools).toEqual([{ name: 'f', input_schema: { type: 'object', properties: {} }, cache_control: ephemeral }]);
  });

  it('thinking: passed through, or from reasoning_effort (LiteLLM\'s budgets), with room for the answer above a large budget; thinking_blocks sent back first', () => {
    expect(build({ messages: [user('hi')], reasoning_effort: 'low' })).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 1024 }, max_tokens: DEFAULT_MAX_TOKENS });
    expect(build({ messages: [user('hi')], reasoning_effort: 'high' })).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 4096 }, max_tokens: 4096 + DEFAULT_MAX_TOKENS });
    expect(build({ messages: [user('hi')], thinking: { type: 'enabled', budget_tokens: 2000 }, max_tokens: 3000 })).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 2000 }, max_tokens: 3000 });
    expect(build({ messages: [user('hi')], reasoning_effort: 'none' })).not.toHaveProperty('thinking');
    const thinking = { type: 'thinking', thinking: 'Hmm.', signature: 'sig' };
    const request = build({ messages: [user('hi'), { role: 'assistant', content: null, thinking_blocks: [thinking], tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }] }] });
    expect((request.messages as Array<{ content: unknown[] }>)[1].content).toEqual([thinking, { type: 'tool_use', id: 't1', name: 'f', input: {} }]);
  });

  it.each([
    [{ n: 2 }, 'n'],
    [{ logprobs: true }, 'logprobs'],
    [{ top_logprobs: 2 }, 'top_logprobs'],
    [{ response_format: { type: 'json_object' } }, 'response_format'],
    [{ presence_penalty: 0.5 }, 'presence_penalty'],
    [{ frequency_penalty: -1 }, 'frequency_penalty'],
    [{ logit_bias: { '50256': -100 } }, 'logit_bias'],
    [{ functions: [{ name: 'f' }] }, 'functions'],
    [{ audio: { voice: 'alloy', format: 'wav' } }, 'audio'],
    [{ reasoning_effort: 'extreme' }, 'reasoning_effort'],
    [{ stop: [1] }, 'stop'],
    [{ temperature: 'hot' }, 'temperature'],
    [{ tools: [{ type: 'web_search' }] }, 'tools[0].type'],
    [{ tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function' } }, 'tool_choice'],
  ])('refuses what Anthropic cannot do with a 400 naming the field: %j', (extra, param) => {
    expect(refusal({ messages: [user('hi')], ...extra }).param).toBe(param);
  });

  it.each([
    [[{ role: 'function', content: 'x' }], 'messages[0].role'],
    [['hi'], 'messages[0]'],
    [[user([{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }])], 'messages[0].content[0].type'],
    [[user([{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,Qk0=' } }])], 'messages[0].content[0].image_url.url'],
    [[user([{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }])], 'messages[0].content[0].image_url.url'],
    [[user('hi'), { role: 'assistant', tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{not json' } }] }], 'messages[1].tool_calls[0].function.arguments'],
    [[user('hi'), { role: 'assistant', tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '[1]' } }] }], 'messages[1].tool_calls[0].function.arguments'],
    [[user('hi'), { role: 'assistant', tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{}' } }] }], 'messages[1].tool_calls[0].id'],
    [[{ role: 'tool', content: 'x' }], 'messages[0].tool_call_id'],
  ])('refuses a message Anthropic cannot be given, naming it: %j', (messages, param) => {
    expect(refusal({ messages }).param).toBe(param);
  });
});
