import { AppException } from '../../errors';
import { chatRequest } from './chat-request';

const base = { model: 'gpt', max_tokens: 100 };

describe(chatRequest.name, () => {
  it('maps system, text, images, documents, tool use and tool results to OpenAI messages', () => {
    const chat = chatRequest({
      ...base,
      system: [{ type: 'text', text: 'One.', cache_control: { type: 'ephemeral' } }, { type: 'text', text: 'Two.' }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }, { type: 'image', source: { type: 'url', url: 'https://x/y.png' } }] },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'hm', signature: 's' }, { type: 'text', text: 'Calling' }, { type: 'tool_use', id: 'tu_1', name: 'f', input: { a: 1 } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu_1', content: [{ type: 'text', text: 'r1' }, { type: 'text', text: 'r2' }] }, { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBE' } }] },
      ],
    });
    expect(chat.messages).toEqual([
      { role: 'system', content: 'One.\nTwo.' },
      { role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
      { role: 'assistant', content: 'Calling', tool_calls: [{ id: 'tu_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
      { role: 'tool', tool_call_id: 'tu_1', content: 'r1\nr2' },
      { role: 'user', content: [{ type: 'file', file: { file_data: 'data:application/pdf;base64,JVBE' } }] },
    ]);
  });

  it('maps tools, tool_choice, stop_sequences, metadata.user_id, thinking and stream; drops what OpenAI lacks', () => {
    const chat = chatRequest({
      ...base,
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ name: 'f', description: 'd', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral' } }],
      tool_choice: { type: 'tool', name: 'f', disable_parallel_tool_use: true },
      stop_sequences: ['END'],
      metadata: { user_id: 'u-1' },
      thinking: { type: 'enabled', budget_tokens: 2048 },
      top_k: 3,
      temperature: 0.2,
      stream: true,
    });
    expect(chat).toEqual({
      model: 'gpt',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ type: 'function', function: { name: 'f', description: 'd', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      parallel_tool_calls: false,
      stop: ['END'],
      user: 'u-1',
      reasoning_effort: 'medium',
      temperature: 0.2,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it.each([
    [{ type: 'auto' }, 'auto'],
    [{ type: 'any' }, 'required'],
    [{ type: 'none' }, 'none'],
  ])('tool_choice %j → %s', (choice, expected) => {
    expect(chatRequest({ ...base, messages: [], tools: [{ name: 'f', input_schema: {} }], tool_choice: choice }).tool_choice).toBe(expected);
  });

  it.each([
    ['no max_tokens', { model: 'gpt', messages: [] }, 'max_tokens'],
    ['no messages', { ...base }, 'messages'],
    ['a system role', { ...base, messages: [{ role: 'system', content: 'x' }] }, 'messages[0].role'],
    ['a server tool', { ...base, messages: [], tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, 'tools[0].type'],
    ['an unknown block', { ...base, messages: [{ role: 'user', content: [{ type: 'container_upload' }] }] }, 'messages[0].content[0].type'],
    ['an image in a tool result', { ...base, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'image' }] }] }] }, 'messages[0].content[0].content[0].type'],
    ['stream not a boolean', { ...base, messages: [], stream: 'yes' }, 'stream'],
  ])('%s → a 400 naming %s', (_name, body, param) => {
    let thrown: unknown;
    try {
      chatRequest(body);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppException);
    expect((thrown as AppException).status).toBe(400);
    expect((thrown as AppException).param).toBe(param);
  });
});
