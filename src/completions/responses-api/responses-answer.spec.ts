import { responsesAnswer } from './responses-answer';

describe(responsesAnswer.name, () => {
  it('a chat.completion as a response: text, tool calls, usage and the request echoed', () => {
    const answer = responsesAnswer(
      {
        id: 'chatcmpl-xyz',
        created: 42,
        model: 'llama',
        choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: 'Checking', tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'f', arguments: '{}' } }] } }],
        usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14, prompt_tokens_details: { cached_tokens: 3 }, completion_tokens_details: { reasoning_tokens: 1 } },
      },
      { model: 'alias', instructions: 'Be brief.', temperature: 0.5, tools: [{ type: 'function', name: 'f' }], metadata: { a: 'b' } },
    );
    expect(answer).toMatchObject({
      id: 'resp_xyz',
      object: 'response',
      created_at: 42,
      status: 'completed',
      model: 'llama',
      instructions: 'Be brief.',
      temperature: 0.5,
      tools: [{ type: 'function', name: 'f' }],
      metadata: { a: 'b' },
      output: [
        { id: 'msg_xyz', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Checking', annotations: [] }] },
        { id: 'fc_call_9', type: 'function_call', call_id: 'call_9', name: 'f', arguments: '{}', status: 'completed' },
      ],
      usage: { input_tokens: 10, output_tokens: 4, total_tokens: 14, input_tokens_details: { cached_tokens: 3 }, output_tokens_details: { reasoning_tokens: 1 } },
    });
  });

  it('only tool calls: no empty message item; a cut answer is incomplete', () => {
    const tools = responsesAnswer({ id: 'chatcmpl-1', choices: [{ finish_reason: 'tool_calls', message: { content: null, tool_calls: [{ id: 'c', function: { name: 'f', arguments: '{}' } }] } }] }, {});
    expect((tools.output as unknown[]).map((item) => (item as { type: string }).type)).toEqual(['function_call']);
    const cut = responsesAnswer({ id: 'chatcmpl-2', choices: [{ finish_reason: 'length', message: { content: 'abc' } }] }, {});
    expect(cut).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
  });
});
