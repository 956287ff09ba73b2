import type { StandardLoggingPayload } from '../../../src/logging/standard-logging-payload';

/** A realistic success payload for destination tests; override any field. */
export function samplePayload(overrides: Partial<StandardLoggingPayload> = {}): StandardLoggingPayload {
  const callId = overrides.litellm_call_id ?? 'call-0001';
  const start = 1_767_225_600.25; // 2026-01-01T00:00:00.250Z
  return {
    id: 'chatcmpl-abc123',
    trace_id: callId,
    litellm_call_id: callId,
    call_type: 'acompletion',
    stream: false,
    status: 'success',
    custom_llm_provider: 'openai',
    model: 'gpt-4o-mini',
    model_group: 'gpt-4o-mini',
    model_id: 'deployment-1',
    api_base: 'https://api.openai.com/v1',
    response_cost: 0.000045,
    cost_breakdown: { input_cost: 0.000015, output_cost: 0.00003, total_cost: 0.000045 },
    prompt_tokens: 10,
    completion_tokens: 5,
    total_tokens: 15,
    startTime: start,
    endTime: start + 0.75,
    completionStartTime: start + 0.5,
    response_time: 0.75,
    metadata: {
      user_api_key_hash: 'hash-of-key-1',
      user_api_key_alias: 'ci-key',
      user_api_key_team_id: 'team-a',
      user_api_key_team_alias: 'Team A',
      user_api_key_end_user_id: null,
      user_api_key_request_route: '/v1/chat/completions',
      requester_metadata: {},
      team_id: 'team-a',
      team_alias: 'Team A',
    },
    cache_hit: false,
    cache_key: null,
    request_tags: ['prod'],
    end_user: 'end-user-7',
    requester_ip_address: null,
    user_agent: 'jest',
    messages: [{ role: 'user', content: 'Hello, Claude gm!' }],
    response: {
      id: 'chatcmpl-abc123',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: 'gm!' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    },
    model_parameters: { temperature: 0.2, max_tokens: 256, user: 'end-user-7' },
    error_str: null,
    error_information: null,
    hidden_params: { model_id: 'deployment-1', api_base: 'https://api.openai.com/v1', response_cost: 0.000045, litellm_overhead_time_ms: 1.2 },
    ...overrides,
  };
}

export function failurePayload(overrides: Partial<StandardLoggingPayload> = {}): StandardLoggingPayload {
  return samplePayload({
    status: 'failure',
    response: null,
    completion_tokens: 0,
    total_tokens: 10,
    error_str: 'RateLimitError: upstream said slow down',
    error_information: { error_code: '429', error_class: 'RateLimitError', llm_provider: 'openai', error_message: 'slow down' },
    ...overrides,
  });
}
