import { GatewaySettings } from '../../config/gateway-settings';
import { decryptSecretVars, SecretBox } from '../../common/secret-box';
import { envReferenceName, isEnvReference } from '../../config/env-reference';
import { ProtectedEnvironment } from '../../config/protected-env';
import { confineHostFilePath, isInlineJson } from '../host-file-path';
import { GcsBucketDestination } from './destinations/gcs-bucket/gcs-bucket.destination';
import { LangfuseDestination } from './destinations/langfuse/langfuse.destination';
import { LangsmithDestination } from './destinations/langsmith/langsmith.destination';
import { OtelDestination } from './destinations/otel/otel.destination';
import { isHostFileVar, isSecretVar, type DestinationKind, type LogDestination } from '../log-destination';
import { entryPlace, type LoggingEntry, type LoggingSource, type OwnedEntry } from '../logging-entry';

/** One destination per kind. Typed by kind, so a kind without an implementation fails to compile. */
export type DestinationMap = { readonly [K in DestinationKind]: LogDestination<unknown> };

/** Rules on stored vars, applied again every time an entry is used (they may have changed since it was saved). */
export interface UsePolicy {
  readonly protectedEnv: ProtectedEnvironment;
  /** GCS_SERVICE_ACCOUNT_DIR (a real path), or undefined: file paths from the API are then refused. */
  readonly hostFileDir: string | undefined;
}

/** An entry's settings ready to send with, and its credentials as text, so error text from its destination can be redacted. */
export interface UsableSettings {
  readonly settings: unknown;
  readonly secrets: readonly string[];
}

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
    private readonly use: UsePolicy,
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
    return new DestinationRegistry(build(), build(settings.config.generalSettings.allowed_logging_hosts), secrets, {
      protectedEnv: ProtectedEnvironment.forConfig(settings.config),
      hostFileDir: environment.GCS_SERVICE_ACCOUNT_DIR,
    });
  }

  destinationFor(entry: Pick<LoggingEntry, 'callback_name' | 'trusted'>): LogDestination<unknown> {
    return (entry.trusted ? this.trusted : this.guarded)[entry.callback_name];
  }

  /**
   * Stored vars → the destination's typed settings: decrypts secrets (bound to the entry's row: a value moved from
   * elsewhere fails) and resolves `os.environ/NAME` at use time. The save-time rules are checked again, as they may
   * have changed since: a reference to a variable that is now one of the gateway's own secrets is not resolved, and a
   * file path set through the API (`source` key or team) must still lie in GCS_SERVICE_ACCOUNT_DIR. Problems come
   * back as a message naming the variable, never its value.
   */
  settingsFor(entry: OwnedEntry, source: LoggingSource, env: NodeJS.ProcessEnv): UsableSettings | { error: string } {
    let vars: Record<string, string>;
    try {
      vars = decryptSecretVars(this.secrets, entry.callback_vars, entryPlace(entry.owner, entry.entry_id));
    } catch (error) {
      return { error: (error as Error).message };
    }
    const kind = entry.callback_name;
    const fromApi = source === 'key' || source === 'team';
    const references = new Map<string, string>();
    for (const [name, value] of Object.entries(vars)) {
      if (isEnvReference(value)) {
        const variable = envReferenceName(value);
        if (variable !== null && this.use.protectedEnv.refuses(variable)) {
          return { error: `${name}: ${ProtectedEnvironment.refusal(variable)}` };
        }
        const resolved = variable === null ? undefined : env[variable];
        if (resolved === undefined || resolved === '') {
          return { error: `${name}: environment variable ${variable ?? value} is not set` };
        }
        vars[name] = resolved;
        references.set(name, variable as string);
      } else if (fromApi && isHostFileVar(kind, name) && !isInlineJson(value)) {
        const confined = confineHostFilePath(value.trim(), this.use.hostFileDir);
        if ('error' in confined) return { error: `${name}: ${confined.error}` };
        vars[name] = confined.path;
      }
    }
    const parsed = this.destinationFor(entry).parseSettings(vars);
    if ('errors' in parsed) {
      const named = (field: string) => (references.has(field) ? `${field} (os.environ/${references.get(field)})` : field);
      return { error: parsed.errors.map((e) => `${named(e.field)}: ${e.message}`).join('; ') };
    }
    const secrets = Object.entries(vars).flatMap(([name, value]) => (isSecretVar(kind, name) ? credentialTexts(value) : []));
    return { settings: parsed.settings, secrets };
  }

  async closeAll(): Promise<void> {
    const all = [...Object.values(this.trusted), ...Object.values(this.guarded)];
    await Promise.allSettled(all.map((destination) => destination.close()));
  }
}

/** A secret var's value, and the values inside a header list (`otel_headers`: `k=v,k2=Bearer t`), as they may be echoed. */
function credentialTexts(value: string): string[] {
  const texts = [value];
  if (isInlineJson(value)) return texts;
  for (const pair of value.split(',')) {
    const equals = pair.indexOf('=');
    if (equals <= 0) continue;
    const headerValue = pair.slice(equals + 1).trim();
    texts.push(headerValue, headerValue.replace(/^(?:bearer|basic)\s+/i, ''));
  }
  return texts;
}
