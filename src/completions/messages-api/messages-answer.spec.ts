import { anthropicUsage, messagesAnswer, stopReasonOf } from './messages-answer';

describe(messagesAnswer.name, () => {
  it('a chat.completion with reasoning, text and tool calls as a Messages answer', () => {
    const answer = messagesAnswer({
      id: 'chatcmpl-abc',
      model: 'gpt-4o',
      choices: [{ message: { role: 'assistant', content: 'Sure', reasoning_content: 'thinking', tool_calls: [{ id: 'call_1', function: { name: 'f', arguments: '{"x":1}' } }] }, finish_reason: 'tool_calls' }],
      usage: { prompt_tokens: 30, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 10 } },
    });
    expect(answer).toEqual({
      id: 'msg_abc',
      type: 'message',
      role: 'assistant',
      model: 'gpt-4o',
      content: [
        { type: 'thinking', thinking: 'thinking', signature: '' },
        { type: 'text', text: 'Sure' },
        { type: 'tool_use', id: 'call_1', name: 'f', input: { x: 1 } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 20, output_tokens: 5, cache_read_input_tokens: 10, cache_creation_input_tokens: 0 },
    });
  });

  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['content_filter', 'refusal'],
    [null, 'end_turn'],
  ])('finish_reason %s → %s', (finish, stop) => {
    expect(stopReasonOf(finish)).toBe(stop);
  });

  it('arguments that are not a JSON object read as an empty input; missing usage as zeros', () => {
    const answer = messagesAnswer({ choices: [{ message: { tool_calls: [{ id: 'c', function: { name: 'f', arguments: '{broken' } }] } }] });
    expect(answer.content).toEqual([{ type: 'tool_use', id: 'c', name: 'f', input: {} }]);
    expect(anthropicUsage(undefined)).toEqual({ input_tokens: 0, output_tokens: 0 });
  });
});
