import { parseGatewayConfig } from '../gateway-config';

const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

describe('model_group_alias', () => {
  it('reads both forms from router_settings and litellm_settings, the router winning, and warns other router settings', () => {
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
    expect(warnings.map((w) => w.path)).toEqual(['router_settings.routing_strategy']);
  });

  it('refuses an alias that names no group', () => {
    expect(() => parseGatewayConfig(yaml('router_settings:', '  model_group_alias:', '    a: [x]', '    b: {hidden: true}'), null)).toThrow(
      /router_settings\.model_group_alias\.a[\s\S]*must name a model group[\s\S]*router_settings\.model_group_alias\.b/,
    );
  });
});
