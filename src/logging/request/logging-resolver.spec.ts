import { NO_LIMITS } from '../../budgets/usage-limits';
import { parseGatewayConfig } from '../../config/gateway-config';
import { GatewaySettings } from '../../config/gateway-settings';
import { loadEnvironment } from '../../config/environment';
import type { Principal } from '../../keys/principal';
import type { LoggingEntry } from '../logging-entry';
import { LoggingResolver } from './logging-resolver';

const CONFIG = `
litellm_settings:
  success_callback: ["langfuse"]
  default_team_settings:
    - team_id: config-team
      success_callback: ["otel"]
      otel_endpoint: https://collector.example.com
    - team_id: cache-only
      cache: true
    - team_id: silent-config
      success_callback: []
`;

function resolver(): LoggingResolver {
  const { config } = parseGatewayConfig(CONFIG, null);
  return new LoggingResolver(new GatewaySettings(loadEnvironment({}), config, 'sk-master', { url: 'postgres://x', poolSize: 1, embedded: true }));
}

const entry = (name: LoggingEntry['callback_name'], id: string): LoggingEntry => ({
  callback_name: name,
  callback_type: 'success_and_failure',
  callback_vars: {},
  entry_id: id,
  trusted: true,
});

function principal(overrides: Partial<Principal>): Principal {
  return {
    kind: 'key',
    isProxyAdmin: false,
    role: null,
    keyHash: 'h',
    keyAlias: null,
    teamId: null,
    teamAlias: null,
    allowedModels: null,
    keyMetadata: {},
    teamMetadata: {},
    teamLoggingDisabled: false,
    userId: null,
    adminTeamIds: [],
    limits: NO_LIMITS,
    ...overrides,
  };
}

const sourcesOf = (entries: readonly { source: string; callback_name: string }[]) => entries.map((e) => `${e.source}:${e.callback_name}`);

describe(LoggingResolver.name, () => {
  const resolve = (p: Partial<Principal>) => sourcesOf(resolver().resolve(principal(p)));

  it('takes the first source that is set: key, then team API, then config team, then globals', () => {
    const keyLogging = { logging: [entry('gcs_bucket', 'k1')] };
    const teamLogging = { logging: [entry('langsmith', 't1')] };
    expect(resolve({ teamId: 'config-team', keyMetadata: keyLogging, teamMetadata: teamLogging })).toEqual(['key:gcs_bucket']);
    expect(resolve({ teamId: 'config-team', teamMetadata: teamLogging })).toEqual(['team:langsmith']);
    expect(resolve({ teamId: 'config-team' })).toEqual(['config:otel']);
    expect(resolve({ teamId: 'no-config' })).toEqual(['global:langfuse']);
    expect(resolve({})).toEqual(['global:langfuse']);
  });

  it('treats a present but empty list as "nowhere", at every level', () => {
    expect(resolve({ teamId: 'config-team', keyMetadata: { logging: [] } })).toEqual([]);
    expect(resolve({ teamId: 'config-team', teamMetadata: { logging: [] } })).toEqual([]);
    expect(resolve({ teamId: 'silent-config' })).toEqual([]);
  });

  it('leaves a config entry without callback lists out of logging (it only sets the cache)', () => {
    expect(resolve({ teamId: 'cache-only' })).toEqual(['global:langfuse']);
  });

  it('logs nowhere for a team with logging disabled, even where the key has its own logging', () => {
    expect(resolve({ teamId: 'config-team', teamLoggingDisabled: true, keyMetadata: { logging: [entry('gcs_bucket', 'k1')] } })).toEqual([]);
  });

  it('names the row each entry was read from, which its secrets are bound to (none for config and global entries)', () => {
    const owners = (p: Partial<Principal>) => resolver().resolve(principal(p)).map((e) => e.owner);
    expect(owners({ keyHash: 'f'.repeat(64), teamId: 'config-team', keyMetadata: { logging: [entry('gcs_bucket', 'k1')] } })).toEqual([
      { table: 'virtual_keys', id: 'f'.repeat(64) },
    ]);
    expect(owners({ teamId: 'team-7', teamMetadata: { logging: [entry('langsmith', 't1')] } })).toEqual([{ table: 'teams', id: 'team-7' }]);
    expect(owners({ teamId: 'config-team' })).toEqual([null]);
    expect(owners({})).toEqual([null]);
  });

  it('reads global vars from the destinations’ usual environment variables, at delivery time', () => {
    const [global] = resolver().resolve(principal({}));
    expect(global.callback_vars).toEqual({ langfuse_public_key: 'os.environ/LANGFUSE_PUBLIC_KEY', langfuse_secret_key: 'os.environ/LANGFUSE_SECRET_KEY' });
  });
});
