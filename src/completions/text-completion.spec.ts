import type { ModelDeployment } from '../config/gateway-config.types';
import { AppException } from '../errors';
import { DeploymentTable, type CompiledDeployment } from './deployment-table';
import { UpstreamErrorEvent, type ProviderCall, type UpstreamRequest } from './providers/provider';
import {
  assembleTextStream,
  chatBodyFromPrompt,
  deploymentForTextCompletions,
  requirePrompt,
  textChunkFromChatChunk,
  textCompletionFromChat,
} from './text-completion';

const entry = (model: string, extra: Record<string, unknown> = {}): ModelDeployment => ({
  model_name: 'm',
  litellm_params: { model, api_base: 'http://127.0.0.1:9/v1', api_key: 'k', ...extra },
  model_info: {},
});

describe('text completions', () => {
  const tables: DeploymentTable[] = [];
  afterAll(async () => Promise.all(tables.map((table) => table.close())));
  const compile = (model: string): CompiledDeployment => {
    const table = new DeploymentTable([entry(model)], { env: {}, pools: false });
    tables.push(table);
    return table.group('m')!.deployments[0];
  };
  const call = (body: Record<string, unknown>, stream = false, upstreamModel = 'x'): ProviderCall => ({ endpoint: 'completions', stream, body, upstreamModel, callId: 'c' });
  const paramOf = (run: () => unknown): string | null | undefined => {
    try {
      run();
    } catch (error) {
      if (error instanceof AppException) return error.param;
      throw error;
    }
    return undefined;
  };

  it('prompt: a text, texts, token ids or lists of them; anything else is a 400 naming prompt', () => {
    for (const prompt of ['hi', '', ['a', 'b'], [1, 2], [[1], [2, 3]]]) expect(paramOf(() => requirePrompt({ prompt }))).toBeUndefined();
    for (const prompt of [undefined, null, 42, [], [''.length, 'a'], [[]], [{ text: 'a' }], [1.5]]) expect(paramOf(() => requirePrompt({ prompt }))).toBe('prompt');
  });

  it("a chat body: one user message per text (LiteLLM's reading), the other parameters kept, the text-only ones refused", () => {
    expect(chatBodyFromPrompt({ model: 'm', prompt: 'hi', max_tokens: 5, echo: false, best_of: 1, logprobs: null, suffix: '' })).toEqual({
      model: 'm',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(chatBodyFromPrompt({ prompt: ['a', 'b'] }).messages).toEqual([
      { role: 'user', content: 'a' },
      { role: 'user', content: 'b' },
    ]);
    expect(paramOf(() => chatBodyFromPrompt({ prompt: [1, 2] }))).toBe('prompt');
    expect(paramOf(() => chatBodyFromPrompt({ prompt: 'x', echo: true }))).toBe('echo');
    expect(paramOf(() => chatBodyFromPrompt({ prompt: 'x', suffix: 'end' }))).toBe('suffix');
    expect(paramOf(() => chatBodyFromPrompt({ prompt: 'x', best_of: 3 }))).toBe('best_of');
    expect(paramOf(() => chatBodyFromPrompt({ prompt: 'x', logprobs: 2 }))).toBe('logprobs');
  });

  it('a chat answer as a text_completion; a chunk as a text chunk (role and prompt-filter chunks dropped, the usage chunk kept)', () => {
    const chat = {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 7,
      model: 'gpt',
      system_fingerprint: 'fp',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'length' }, { index: 1, message: { role: 'assistant', content: null, tool_calls: [] }, finish_reason: 'tool_calls' }],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    };
    expect(textCompletionFromChat(chat)).toEqual({
      id: 'chatcmpl-1',
      object: 'text_completion',
      created: 7,
      model: 'gpt',
      system_fingerprint: 'fp',
      choices: [
        { text: 'Hello', index: 0, logprobs: null, finish_reason: 'length' },
        { text: '', index: 1, logprobs: null, finish_reason: 'tool_calls' },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
    const base = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt' };
    expect(textChunkFromChatChunk({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] })).toBeNull();
    expect(textChunkFromChatChunk({ ...base, choices: [], prompt_filter_results: [] })).toBeNull();
    expect(textChunkFromChatChunk({ ...base, choices: [{ index: 0, delta: { content: 'He' }, finish_reason: null }] })).toEqual({
      id: 'c',
      object: 'text_completion',
      created: 1,
      model: 'gpt',
      choices: [{ text: 'He', index: 0, logprobs: null, finish_reason: null }],
    });
    expect(textChunkFromChatChunk({ ...base, choices: [], usage: { prompt_tokens: 1 } })).toEqual({ id: 'c', object: 'text_completion', created: 1, model: 'gpt', choices: [], usage: { prompt_tokens: 1 } });
  });

  it('assembles a text stream for the record: texts joined per choice, finish reason and usage kept, broken events counted', () => {
    const chunk = (text: string, finish: string | null = null) => JSON.stringify({ id: 'cmpl-1', object: 'text_completion', created: 5, model: 'i', choices: [{ text, index: 0, finish_reason: finish }] });
    const { completion, malformedEvents } = assembleTextStream([chunk('Hel'), chunk('lo'), chunk('', 'stop'), '{oops', JSON.stringify({ id: 'cmpl-1', choices: [], usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 } })]);
    expect(malformedEvents).toBe(1);
    expect(completion).toEqual({
      id: 'cmpl-1',
      object: 'text_completion',
      created: 5,
      model: 'i',
      choices: [{ text: 'Hello', index: 0, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 },
    });
  });

  it('openai/ and text-completion-openai/ relay to /completions as they are; groq/ goes through chat', () => {
    for (const model of ['openai/gpt-3.5-turbo-instruct', 'text-completion-openai/davinci-002', 'hosted_vllm/my-model']) {
      const deployment = compile(model);
      expect(deploymentForTextCompletions(deployment)).toBe(deployment);
      const request = deployment.target!.request(call({ model: 'm', prompt: [1, 2], echo: true }, false, deployment.upstreamModel)) as UpstreamRequest;
      expect(request.path).toBe('/v1/completions');
      expect(JSON.parse(request.body as string)).toEqual({ model: deployment.upstreamModel, prompt: [1, 2], echo: true });
    }
    const groq = compile('groq/llama-3.1-8b-instant');
    const adapted = deploymentForTextCompletions(groq)!;
    expect(adapted).not.toBe(groq);
    expect(deploymentForTextCompletions(groq)).toBe(adapted);
    expect(adapted).toMatchObject({ providerLabel: 'groq', pool: groq.pool, modelId: groq.modelId });
    const request = adapted.target!.request(call({ model: 'm', prompt: 'hi', temperature: 0 }, false, groq.upstreamModel)) as UpstreamRequest;
    expect(request.path).toBe('/v1/chat/completions');
    expect(JSON.parse(request.body as string)).toEqual({ model: 'llama-3.1-8b-instant', temperature: 0, messages: [{ role: 'user', content: 'hi' }] });
    expect(() => adapted.target!.request(call({ prompt: [1, 2] }))).toThrow(AppException);
  });

  it("an OpenAI-format chat answer and stream come back as text; an error event inside the stream ends it with the chunks before it", () => {
    const adapted = deploymentForTextCompletions(compile('groq/llama'))!;
    const translation = adapted.target!.translation!;
    const answer = translation.answer(Buffer.from(JSON.stringify({ id: 'x', created: 1, model: 'llama', choices: [{ index: 0, message: { content: 'Hi' }, finish_reason: 'stop' }] })), call({ prompt: 'p' }));
    expect(answer).toMatchObject({ object: 'text_completion', choices: [{ text: 'Hi', finish_reason: 'stop' }] });

    const stream = translation.stream(call({ prompt: 'p' }, true));
    const event = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;
    const delta = (content: string) => ({ id: 'x', created: 1, model: 'llama', choices: [{ index: 0, delta: { content }, finish_reason: null }] });
    const first = stream.push(Buffer.from(event({ id: 'x', choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] }) + event(delta('Hel')) + 'data: {"id":"x","choices":[{"index":0,"delta":{"content":"lo"}'));
    expect(first.map((chunk) => (chunk.choices as Array<{ text: string }>)[0].text)).toEqual(['Hel']);
    const rest = stream.push(Buffer.from(',"finish_reason":null}]}\n\ndata: [DONE]\n\n'));
    expect(rest.map((chunk) => (chunk.choices as Array<{ text: string }>)[0].text)).toEqual(['lo']);
    expect(stream.end()).toEqual([]);

    const failing = translation.stream(call({ prompt: 'p' }, true));
    let thrown: unknown;
    try {
      failing.push(Buffer.from(event(delta('A')) + event({ error: { message: 'overloaded' } })));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UpstreamErrorEvent);
    expect((thrown as UpstreamErrorEvent).message).toBe('overloaded');
    expect((thrown as UpstreamErrorEvent).chunksBefore).toHaveLength(1);
  });

  it("another provider's translation is reused: Anthropic's answer read by its own translator, then made text", () => {
    const table = new DeploymentTable([{ model_name: 'c', litellm_params: { model: 'anthropic/claude-x', api_key: 'k' }, model_info: {} }], { env: {}, pools: false });
    tables.push(table);
    const adapted = deploymentForTextCompletions(table.group('c')!.deployments[0])!;
    const request = adapted.target!.request(call({ prompt: 'hi' })) as UpstreamRequest;
    expect(request.path).toBe('/v1/messages');
    expect(JSON.parse(request.body as string)).toMatchObject({ messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] });
    const answer = adapted.target!.translation!.answer(
      Buffer.from(JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x', content: [{ type: 'text', text: 'Hey' }], stop_reason: 'end_turn', usage: { input_tokens: 3, output_tokens: 1 } })),
      call({ prompt: 'hi' }),
    );
    expect(answer).toMatchObject({ id: 'msg_1', object: 'text_completion', choices: [{ text: 'Hey', finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } });
  });
});
