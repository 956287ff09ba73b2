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
    expect(warnings).toEqual([]);
    expect(config.modelGroupAlias).toEqual({ 'gpt-4': { model: 'gpt-4o', hidden: false } });
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
      other: {},
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

const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

describe('model_group_alias', () => {
  it('reads both forms from router_settings and litellm_settings, the router winning', () => {
    const { config, warnings } = parseGatewayConfig(
      yaml(
        'litellm_settings:',
        '  model_group_alias: {"gpt-4": "gpt-4o", "old": "gpt-4o"}',
        'router_settings:',
        '  routing_strategy: simple-shuffle',
        '  model_group_alias:',
        '    gpt-4: claude-sonnet',
        '    secret: {model: gpt-4o, hidden: true}',
      ),
      null,
    );
    expect(config.modelGroupAlias).toEqual({
      'gpt-4': { model: 'claude-sonnet', hidden: false },
      old: { model: 'gpt-4o', hidden: false },
      secret: { model: 'gpt-4o', hidden: true },
    });
    expect(warnings).toEqual([]);
  });

  it('refuses an alias that names no group', () => {
    expect(() => parseGatewayConfig(yaml('router_settings:', '  model_group_alias:', '    a: [x]', '    b: {hidden: true}'), null)).toThrow(
      /router_settings\.model_group_alias\.a[\s\S]*must name a model group[\s\S]*router_settings\.model_group_alias\.b/,
    );
  });
});
