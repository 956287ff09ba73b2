import { GatewaySettings } from '../../config/gateway-settings';
import { decryptSecretVars, SecretBox } from '../../common/secret-box';
import { envReferenceName, isEnvReference } from '../../config/env-reference';
import { GcsBucketDestination } from './destinations/gcs-bucket/gcs-bucket.destination';
import { LangfuseDestination } from './destinations/langfuse/langfuse.destination';
import { LangsmithDestination } from './destinations/langsmith/langsmith.destination';
import { OtelDestination } from './destinations/otel/otel.destination';
import type { DestinationKind, LogDestination } from '../log-destination';
import { entryPlace, type LoggingEntry, type OwnedEntry } from '../logging-entry';

/** One destination per kind. Typed by kind, so a kind without an implementation fails to compile. */
export type DestinationMap = { readonly [K in DestinationKind]: LogDestination<unknown> };

export const DEFAULT_LANGFUSE_HOST = 'https://cloud.langfuse.com';

/**
 * The DI-provided callback strategies. Two instances of each: `trusted` for entries set by the proxy admin
 * or config (hosts may be internal), `guarded` for entries set by team admins, whose every connection goes
 * through the SSRF guard (only public addresses, or `general_settings.allowed_logging_hosts`).
 */
export class DestinationRegistry {
  constructor(
    readonly trusted: DestinationMap,
    readonly guarded: DestinationMap,
    private readonly secrets: SecretBox,
  ) {}

  static create(settings: GatewaySettings, secrets: SecretBox): DestinationRegistry {
    const environment = settings.environment;
    const build = (allowedHosts?: readonly string[]): DestinationMap => {
      const egress = allowedHosts ? { allowedHosts } : undefined;
      return {
        langfuse: new LangfuseDestination({ defaultHost: environment.LANGFUSE_HOST ?? DEFAULT_LANGFUSE_HOST, egress }),
        gcs_bucket: new GcsBucketDestination({ apiEndpoint: environment.STORAGE_EMULATOR_HOST }),
        otel: new OtelDestination({ egress }),
        langsmith: new LangsmithDestination({ egress }),
      };
    };
    return new DestinationRegistry(build(), build(settings.config.generalSettings.allowed_logging_hosts), secrets);
  }

  destinationFor(entry: Pick<LoggingEntry, 'callback_name' | 'trusted'>): LogDestination<unknown> {
    return (entry.trusted ? this.trusted : this.guarded)[entry.callback_name];
  }

  /**
   * Stored vars → the destination's typed settings: decrypts secrets (bound to the entry's row: a value moved from
   * elsewhere fails) and resolves `os.environ/NAME` at use time. Problems come back as a message naming the
   * variable, never its value.
   */
  settingsFor(entry: OwnedEntry, env: NodeJS.ProcessEnv): { settings: unknown } | { error: string } {
    let vars: Record<string, string>;
    try {
      vars = decryptSecretVars(this.secrets, entry.callback_vars, entryPlace(entry.owner, entry.entry_id));
    } catch (error) {
      return { error: (error as Error).message };
    }
    for (const [name, value] of Object.entries(vars)) {
      if (!isEnvReference(value)) continue;
      const variable = envReferenceName(value);
      const resolved = variable === null ? undefined : env[variable];
      if (resolved === undefined || resolved === '') {
        return { error: `${name}: environment variable ${variable ?? value} is not set` };
      }
      vars[name] = resolved;
    }
    const parsed = this.destinationFor(entry).parseSettings(vars);
    if ('errors' in parsed) return { error: parsed.errors.map((e) => `${e.field}: ${e.message}`).join('; ') };
    return { settings: parsed.settings };
  }

  async closeAll(): Promise<void> {
    const all = [...Object.values(this.trusted), ...Object.values(this.guarded)];
    await Promise.allSettled(all.map((destination) => destination.close()));
  }
}
