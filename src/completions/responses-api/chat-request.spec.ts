import { AppException } from '../../errors';
import { readResponsesRequest } from './chat-request';

describe(readResponsesRequest.name, () => {
  it('reads instructions, text, images, files, function calls and their outputs as chat messages', () => {
    const { chatBody, problem } = readResponsesRequest({
      model: 'm',
      instructions: 'Be brief.',
      input: [
        { role: 'developer', content: 'Use tools.' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Look' }, { type: 'input_image', image_url: 'https://x/y.png', detail: 'low' }, { type: 'input_file', file_data: 'data:application/pdf;base64,JVBE', filename: 'a.pdf' }] },
        { type: 'reasoning', id: 'rs_1', summary: [] },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Calling', annotations: [] }] },
        { type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{"a":1}' },
        { type: 'function_call', call_id: 'call_2', name: 'g', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'r1' },
        { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: 'r2' }] },
        { role: 'user', content: 'thanks' },
      ],
    });
    expect(problem).toBeNull();
    expect(chatBody.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'system', content: 'Use tools.' },
      { role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'low' } }, { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBE', filename: 'a.pdf' } }] },
      {
        role: 'assistant',
        content: 'Calling',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
          { id: 'call_2', type: 'function', function: { name: 'g', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'r1' },
      { role: 'tool', tool_call_id: 'call_2', content: 'r2' },
      { role: 'user', content: 'thanks' },
    ]);
  });

  it('maps tools, tool_choice, max_output_tokens, text.format, reasoning, stream and keeps gateway fields', () => {
    const { chatBody } = readResponsesRequest({
      model: 'm',
      input: 'hi',
      tools: [{ type: 'function', name: 'f', description: 'd', parameters: { type: 'object' }, strict: true }],
      tool_choice: { type: 'function', name: 'f' },
      max_output_tokens: 50,
      temperature: 0.1,
      top_p: 0.9,
      text: { format: { type: 'json_schema', name: 's', schema: { type: 'object' }, strict: true } },
      reasoning: { effort: 'low' },
      metadata: { tags: ['t'] },
      user: 'u',
      'no-log': true,
      cache: { 'no-cache': true },
      stream: true,
      store: true,
    });
    expect(chatBody).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ type: 'function', function: { name: 'f', description: 'd', parameters: { type: 'object' }, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      max_tokens: 50,
      temperature: 0.1,
      top_p: 0.9,
      response_format: { type: 'json_schema', json_schema: { name: 's', schema: { type: 'object' }, strict: true } },
      reasoning_effort: 'low',
      metadata: { tags: ['t'] },
      user: 'u',
      'no-log': true,
      cache: { 'no-cache': true },
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it.each([
    [{ tools: [{ type: 'web_search' }] }, 'tools[0].type'],
    [{ previous_response_id: 'resp_1' }, 'previous_response_id'],
    [{ input: [{ type: 'item_reference', id: 'x' }] }, 'input[0].type'],
    [{ input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file_1' }] }] }, 'input[0].content[0].file_id'],
    [{ tool_choice: { type: 'web_search' } }, 'tool_choice.type'],
  ])('%j has no chat counterpart: a problem for a chat deployment, not an error', (extra, param) => {
    const { problem } = readResponsesRequest({ model: 'm', input: 'hi', ...extra });
    expect(problem).toBeInstanceOf(AppException);
    expect(problem?.status).toBe(400);
    expect(problem?.param).toBe(param);
  });

  it.each([
    [{ input: 'hi' }, 'model'],
    [{ model: 'm' }, 'input'],
    [{ model: 'm', input: 3 }, 'input'],
    [{ model: 'm', input: [{ role: 'robot', content: 'x' }] }, 'input[0].role'],
    [{ model: 'm', input: [{ type: 'function_call', name: 'f' }] }, 'input[0].call_id'],
    [{ model: 'm', input: 'hi', max_output_tokens: 0 }, 'max_output_tokens'],
    [{ model: 'm', input: 'hi', stream: 'yes' }, 'stream'],
    [{ model: 'm', input: 'hi', text: { format: { type: 'xml' } } }, 'text.format.type'],
  ])('%j is malformed: the caller’s 400 naming %s', (body, param) => {
    expect(() => readResponsesRequest(body)).toThrow(expect.objectContaining({ status: 400, param }) as Error);
  });
});
