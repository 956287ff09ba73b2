import { parseGatewayConfig } from '../gateway-config';

const MODELS = `model_list:
  - model_name: gpt-4o
    litellm_params: { model: mock/gpt-4o }
  - model_name: claude-sonnet
    litellm_params: { model: mock/claude }
`;

describe('router_settings', () => {
  it('reads LiteLLM\'s router_settings forms', () => {
    const { config, warnings } = parseGatewayConfig(
      `${MODELS}router_settings:
  routing_strategy: latency-based-routing
  routing_strategy_args: { lowest_latency_buffer: 0.5, ttl: 60 }
  num_retries: 2
  retry_after: 1
  timeout: 30
  stream_timeout: 60
  fallbacks: [{"gpt-4o": ["claude-sonnet"]}]
  context_window_fallbacks: [{"gpt-4o": ["claude-sonnet"]}]
  content_policy_fallbacks: [{"gpt-4o": ["claude-sonnet"]}]
  default_fallbacks: ["claude-sonnet"]
  allowed_fails: 1
  cooldown_time: 30
  model_group_alias: { gpt-4: gpt-4o }
`,
      null,
    );
    expect(warnings.map((w) => w.path)).toEqual(['router_settings.model_group_alias']);
    expect(config.routerSettings).toMatchObject({
      routing_strategy: 'latency-based-routing',
      routing_strategy_args: { lowest_latency_buffer: 0.5, ttl: 60 },
      num_retries: 2,
      retry_after: 1,
      timeout: 30,
      stream_timeout: 60,
      fallbacks: { 'gpt-4o': ['claude-sonnet'] },
      context_window_fallbacks: { 'gpt-4o': ['claude-sonnet'] },
      content_policy_fallbacks: { 'gpt-4o': ['claude-sonnet'] },
      default_fallbacks: ['claude-sonnet'],
      allowed_fails: 1,
      cooldown_time: 30,
      other: { model_group_alias: { 'gpt-4': 'gpt-4o' } },
    });
  });

  it('takes the litellm_settings twins, router_settings winning', () => {
    const { config, warnings } = parseGatewayConfig(
      `${MODELS}litellm_settings:
  num_retries: 3
  request_timeout: 10
  fallbacks: [{"gpt-4o": ["claude-sonnet"]}]
  allowed_fails: 2
  cooldown_time: 7
router_settings:
  num_retries: 1
`,
      null,
    );
    expect(warnings).toEqual([]);
    expect(config.routerSettings).toMatchObject({ num_retries: 1, timeout: 10, fallbacks: { 'gpt-4o': ['claude-sonnet'] }, allowed_fails: 2, cooldown_time: 7 });
  });

  it('stops start-up on an unknown strategy, a malformed fallback list or a typo, and warns about settings it leaves alone', () => {
    expect(() => parseGatewayConfig(`${MODELS}router_settings:\n  routing_strategy: cost-based-routing\n`, null)).toThrow(/routing_strategy: must be one of simple-shuffle/);
    expect(() => parseGatewayConfig(`${MODELS}router_settings:\n  fallbacks: {"gpt-4o": 3}\n`, null)).toThrow(/fallbacks.gpt-4o: must be a list of model names/);
    expect(() => parseGatewayConfig(`${MODELS}router_settings:\n  fallback: []\n`, null)).toThrow(/did you mean `fallbacks`/);
    const { warnings } = parseGatewayConfig(`${MODELS}router_settings:\n  enable_pre_call_checks: true\n  redis_host: localhost\n`, null);
    expect(warnings.map((w) => w.path)).toEqual(['router_settings.enable_pre_call_checks', 'router_settings.redis_host']);
  });
});
