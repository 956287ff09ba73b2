import { Global, Injectable, Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test, type TestingModule } from '@nestjs/testing';
import { isEncrypted, SecretBox, secretBoxFor } from '../../common/secret-box';
import { loadEnvironment } from '../../config/environment';
import { parseGatewayConfig } from '../../config/gateway-config';
import { GatewaySettings } from '../../config/gateway-settings';
import type { Principal } from '../../keys/principal';
import type { DeliveryItem, DeliveryResult, EgressPolicy, HealthResult, LogDestination, LogDestinationDefinition, SettingsErrors } from '../log-destination';
import { maskEntry, SECRET_MASK, teamOwner, type OwnedEntry } from '../logging-entry';
import { LoggingEntryPolicy } from '../logging-entry.policy';
import { LoggingResolver } from '../request/logging-resolver';
import { LogDestinationModule } from './destination-module';
import { DestinationRegistry } from './destination-registry';
import { BuiltInDestinationsModule } from './destinations/built-in-destinations.module';

/**
 * A destination registered from outside the gateway, as an enterprise module would: it declares which vars are
 * secrets and URLs and does nothing else about them (its parseSettings does not even check the names). The gateway
 * must still encrypt, mask, redact and SSRF-check them.
 */
interface AcmeSettings {
  endpoint: string;
  apiKey: string;
}

class AcmeDestination implements LogDestination<AcmeSettings> {
  readonly kind = 'acme';
  readonly sent: { items: readonly DeliveryItem[]; settings: AcmeSettings }[] = [];
  constructor(readonly egress: EgressPolicy | undefined) {}
  parseSettings(vars: Readonly<Record<string, string>>): { settings: AcmeSettings } | { errors: SettingsErrors } {
    return { settings: { endpoint: vars.acme_endpoint, apiKey: vars.acme_api_key } };
  }
  send(items: readonly DeliveryItem[], settings: AcmeSettings): Promise<DeliveryResult> {
    this.sent.push({ items, settings });
    return Promise.resolve({ ok: true });
  }
  checkHealth(): Promise<HealthResult> {
    return Promise.resolve({ healthy: true, details: 'ok' });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

@Injectable()
class AcmeDefinition implements LogDestinationDefinition<AcmeSettings> {
  readonly callbackName = 'acme';
  readonly vars = {
    vars: {
      acme_endpoint: { secret: false, url: true, adminOnly: false },
      acme_api_key: { secret: true, url: false, adminOnly: false },
      acme_dataset: { secret: false, url: false, adminOnly: false },
    },
    required: [['acme_endpoint'], ['acme_api_key']],
    requiredForNonAdmin: [],
  };
  readonly environment = { acme_endpoint: 'ACME_ENDPOINT', acme_api_key: 'ACME_API_KEY' };
  readonly created: AcmeDestination[] = [];
  create(egress: EgressPolicy | undefined): AcmeDestination {
    const destination = new AcmeDestination(egress);
    this.created.push(destination);
    return destination;
  }
}

@LogDestinationModule({ destinations: [AcmeDefinition], path: __filename })
class AcmeModule {}

/** GatewaySettings is global in the application (and in the delivery thread), as destination modules expect. */
@Global()
@Module({})
class Settings {
  static of(settings: GatewaySettings): DynamicModule {
    return { module: Settings, providers: [{ provide: GatewaySettings, useValue: settings }], exports: [GatewaySettings] };
  }
}

const CONFIG = `
litellm_settings:
  success_callback: ["acme"]
general_settings:
  allowed_logging_hosts: ["127.0.0.1:4318"]
`;

const admin = { isProxyAdmin: true } as Principal;
const teamAdmin = { isProxyAdmin: false } as Principal;
const apiKey = 'acme-key-0123456789abcdef';

describe('a destination registered from outside (DestinationRegistry)', () => {
  let moduleRef: TestingModule;
  let registry: DestinationRegistry;
  let policy: LoggingEntryPolicy;
  let definition: AcmeDefinition;
  const owner = teamOwner('team-acme');

  beforeAll(async () => {
    const { config } = parseGatewayConfig(CONFIG, null);
    const settings = new GatewaySettings(loadEnvironment({}), config, 'sk-master-key-for-the-registry-spec', { url: 'postgres://x', poolSize: 1, embedded: true });
    moduleRef = await Test.createTestingModule({
      imports: [Settings.of(settings), DiscoveryModule, BuiltInDestinationsModule, AcmeModule],
      providers: [
        { provide: SecretBox, useValue: secretBoxFor(settings) },
        DestinationRegistry,
        LoggingEntryPolicy,
        LoggingResolver,
      ],
    }).compile();
    await moduleRef.init();
    registry = moduleRef.get(DestinationRegistry);
    policy = moduleRef.get(LoggingEntryPolicy);
    definition = moduleRef.get(AcmeDefinition);
  });

  afterAll(() => moduleRef.close());

  it('is registered next to the built-in destinations, through the same discovery', () => {
    expect(registry.kinds).toEqual(['langfuse', 'gcs_bucket', 'otel', 'langsmith', 's3', 'datadog', 'generic_api', 'arize', 'arize_phoenix', 'langfuse_otel', 'acme']);
    expect(registry.threadImports.map((module) => module.exportName)).toEqual(['BuiltInDestinationsModule', 'AcmeModule']);
    // One destination for the proxy admin's entries (no guard), one for team admins' (only public addresses and the allow-list).
    expect(definition.created.map((destination) => destination.egress)).toEqual([undefined, { allowedHosts: ['127.0.0.1:4318'] }]);
  });

  it('its secret vars are encrypted at rest and masked in answers; plain vars are not', async () => {
    const entry = await policy.prepare(
      { callback_name: 'acme', callback_vars: { acme_endpoint: 'https://8.8.8.8/ingest', acme_api_key: apiKey, acme_dataset: 'prod' } },
      admin,
      owner,
    );
    expect(isEncrypted(entry.callback_vars.acme_api_key)).toBe(true);
    expect(JSON.stringify(entry)).not.toContain(apiKey);
    expect(maskEntry(entry).callback_vars).toEqual({ acme_endpoint: 'https://8.8.8.8/ingest', acme_api_key: SECRET_MASK, acme_dataset: 'prod' });

    const usable = registry.settingsFor({ ...entry, owner }, 'team', {});
    expect(usable).toMatchObject({ settings: { endpoint: 'https://8.8.8.8/ingest', apiKey }, urls: ['https://8.8.8.8/ingest'] });
    // Its credential is known to the redaction of error text from the destination.
    expect((usable as { secrets: readonly string[] }).secrets).toContain(apiKey);
  });

  it('its names are checked by the gateway (400 naming the field), though its parseSettings checks nothing', async () => {
    await expect(policy.prepare({ callback_name: 'acme', callback_vars: { acme_endpoint: 'https://8.8.8.8', acme_api_key: 'k', acme_typo: 'x' } }, admin, owner)).rejects.toMatchObject({
      message: expect.stringContaining('Invalid callback variable: acme_typo') as unknown,
    });
    await expect(policy.prepare({ callback_name: 'acme', callback_vars: { acme_endpoint: 'https://8.8.8.8' } }, admin, owner)).rejects.toMatchObject({
      message: 'acme_api_key is required for acme',
    });
    await expect(policy.prepare({ callback_name: 'acmee', callback_vars: {} }, admin, owner)).rejects.toMatchObject({
      message: 'callback_name must be one of langfuse, gcs_bucket, otel, langsmith, s3, datadog, generic_api, arize, arize_phoenix, langfuse_otel, acme',
    });
  });

  it("SSRF-checks a team admin's URL vars at save time", async () => {
    for (const url of ['http://127.0.0.1:9999/x', 'http://169.254.169.254/latest', 'http://localhost/x', 'file:///etc/passwd']) {
      await expect(policy.prepare({ callback_name: 'acme', callback_vars: { acme_endpoint: url, acme_api_key: apiKey } }, teamAdmin, owner)).rejects.toMatchObject({
        message: expect.stringMatching(/^acme_endpoint is not allowed: /) as unknown,
      });
    }
    // The operator's allow-list applies, as for the built-in destinations.
    const allowed = await policy.prepare({ callback_name: 'acme', callback_vars: { acme_endpoint: 'http://127.0.0.1:4318/x', acme_api_key: apiKey } }, teamAdmin, owner);
    expect(allowed.trusted).toBe(false);
    // The proxy admin may name internal hosts.
    await expect(policy.prepare({ callback_name: 'acme', callback_vars: { acme_endpoint: 'http://10.0.0.5/x', acme_api_key: apiKey } }, admin, owner)).resolves.toMatchObject({ trusted: true });
  });

  it("SSRF-checks a team admin's URL vars again at connect time, before the destination is used", async () => {
    // Stored when it was allowed (or written into the row by hand): the check runs again at every use.
    const stored: OwnedEntry = {
      callback_name: 'acme',
      callback_type: 'success',
      callback_vars: { acme_endpoint: 'http://127.0.0.1:9999/x', acme_api_key: apiKey },
      entry_id: 'e1',
      trusted: false,
      owner: null,
    };
    const usable = registry.settingsFor(stored, 'config', {});
    if ('error' in usable) throw new Error(usable.error);
    expect(await registry.egressProblem(stored, usable)).toMatch(/^host 127\.0\.0\.1 is not allowed: .*loopback/);
    expect(await registry.egressProblem({ ...stored, trusted: true }, usable)).toBeNull();
    const allowListed = registry.settingsFor({ ...stored, callback_vars: { ...stored.callback_vars, acme_endpoint: 'http://127.0.0.1:4318/x' } }, 'config', {});
    expect(await registry.egressProblem(stored, allowListed as typeof usable)).toBeNull();
    // A built-in destination guards each socket itself (its Agent): the gateway leaves its entries to it.
    const otel: OwnedEntry = { ...stored, callback_name: 'otel', callback_vars: { otel_endpoint: 'http://127.0.0.1:9999' } };
    const otelUsable = registry.settingsFor(otel, 'config', {});
    expect(await registry.egressProblem(otel, otelUsable as typeof usable)).toBeNull();
  });

  it('resolves an entry once, and again as soon as its stored vars, its row or a variable it names change', () => {
    const box = moduleRef.get(SecretBox);
    const sealed = (value: string, entryId = 'cached-1', row = owner) => box.encrypt(value, { table: row.table, rowId: row.id, entryId, field: 'acme_api_key' });
    const stored: OwnedEntry = {
      callback_name: 'acme',
      callback_type: 'success',
      callback_vars: { acme_endpoint: 'https://8.8.8.8/a', acme_api_key: sealed('first-key-0123456789') },
      entry_id: 'cached-1',
      trusted: false,
      owner,
    };
    const decrypt = jest.spyOn(box, 'decrypt');
    try {
      const first = registry.settingsFor(stored, 'team', {});
      expect(first).toMatchObject({ settings: { endpoint: 'https://8.8.8.8/a', apiKey: 'first-key-0123456789' } });
      expect(decrypt).toHaveBeenCalledTimes(1);
      // Each event carries its own copy of the entry: the next batch of the same entry is not decrypted again.
      expect(registry.settingsFor(structuredClone(stored), 'team', {})).toBe(first);
      expect(decrypt).toHaveBeenCalledTimes(1);

      // New secrets saved through the API (same entry id): the next batch sends with them, and redacts them.
      const newKey = { ...stored, callback_vars: { ...stored.callback_vars, acme_api_key: sealed('second-key-0123456789') } };
      const second = registry.settingsFor(newKey, 'team', {}) as { settings: AcmeSettings; secrets: readonly string[] };
      expect(second.settings).toEqual({ endpoint: 'https://8.8.8.8/a', apiKey: 'second-key-0123456789' });
      expect(second.secrets).toContain('second-key-0123456789');
      expect(second.secrets).not.toContain('first-key-0123456789');
      // The same secret encrypted again (a key rotation re-encrypts every stored value): opened again.
      const calls = decrypt.mock.calls.length;
      expect(registry.settingsFor({ ...newKey, callback_vars: { ...newKey.callback_vars, acme_api_key: sealed('second-key-0123456789') } }, 'team', {})).toMatchObject({
        settings: { apiKey: 'second-key-0123456789' },
      });
      expect(decrypt.mock.calls.length).toBe(calls + 1);
      // A new plain setting.
      expect(registry.settingsFor({ ...newKey, callback_vars: { ...newKey.callback_vars, acme_endpoint: 'https://8.8.4.4/b' } }, 'team', {})).toMatchObject({
        settings: { endpoint: 'https://8.8.4.4/b', apiKey: 'second-key-0123456789' },
      });
      // The old entry is still the old entry (events taken before the change carry it).
      expect(registry.settingsFor(stored, 'team', {})).toBe(first);
      // The same vars in another row do not open (secrets are bound to their row), cached or not.
      expect(registry.settingsFor({ ...stored, owner: teamOwner('team-other') }, 'team', {})).toEqual({ error: expect.stringContaining('cannot be decrypted') as unknown });
    } finally {
      decrypt.mockRestore();
    }

    // An environment reference is read again at every use: a changed or unset variable is never served stale.
    const referencing: OwnedEntry = { ...stored, callback_vars: { acme_endpoint: 'os.environ/ACME_SPEC_ENDPOINT', acme_api_key: 'plain-key' }, trusted: true, owner: null };
    expect(registry.settingsFor(referencing, 'config', { ACME_SPEC_ENDPOINT: 'https://8.8.8.8/one' })).toMatchObject({ settings: { endpoint: 'https://8.8.8.8/one' } });
    expect(registry.settingsFor(referencing, 'config', { ACME_SPEC_ENDPOINT: 'https://8.8.8.8/two' })).toMatchObject({ settings: { endpoint: 'https://8.8.8.8/two' } });
    expect(registry.settingsFor(referencing, 'config', {})).toEqual({ error: 'acme_endpoint: environment variable ACME_SPEC_ENDPOINT is not set' });
  });

  it('works as a global callback, its required vars read from the environment it names', () => {
    const resolver = moduleRef.get(LoggingResolver);
    const [global] = resolver.resolve({ teamLoggingDisabled: false, keyMetadata: {}, teamMetadata: {}, teamId: null } as unknown as Principal);
    expect(global).toMatchObject({
      callback_name: 'acme',
      source: 'global',
      callback_vars: { acme_endpoint: 'os.environ/ACME_ENDPOINT', acme_api_key: 'os.environ/ACME_API_KEY' },
    });
  });
});
