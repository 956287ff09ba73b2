import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { GatewaySettings } from '../../config/gateway-settings';
import { decryptSecretVars, SecretBox } from '../../common/secret-box';
import { envReferenceName, isEnvReference } from '../../config/env-reference';
import { ProtectedEnvironment } from '../../config/protected-env';
import { confineHostFilePath, isInlineJson } from '../host-file-path';
import {
  catalogueDestination,
  checkVarNames,
  COMMON_VARS,
  type DestinationKind,
  type DestinationSpec,
  type LogDestination,
  type LogDestinationDefinition,
} from '../log-destination';
import { entryPlace, type LoggingEntry, type LoggingSource, type OwnedEntry } from '../logging-entry';
import { connectTimeProblem } from '../ssrf-guard';
import { LogDestinationProvider, threadImportOf, type ThreadImport } from './destination-module';

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
  /** The values of its URL vars, which the gateway checks at connect time for destinations that do not (see `egressProblem`). */
  readonly urls: readonly string[];
}

/** What the gateway needs to know of destination kinds: the registry, or a fixed set where there is no Nest (unit specs). */
export interface DestinationCatalog {
  readonly kinds: readonly DestinationKind[];
  spec(kind: DestinationKind): DestinationSpec | undefined;
}

interface Registered {
  readonly definition: LogDestinationDefinition;
  readonly spec: DestinationSpec;
  /** For entries set by the proxy admin or config: hosts may be internal. */
  readonly trusted: LogDestination<unknown>;
  /** For entries set by team admins: every connection goes through the SSRF guard. */
  readonly guarded: LogDestination<unknown>;
}

const CALLBACK_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** How many resolved entries `settingsFor` keeps (the oldest goes first). */
export const SETTINGS_CACHE_MAX = 512;

/** A resolved entry, with the environment variables it was resolved from and their values then. */
interface CachedSettings {
  readonly usable: UsableSettings;
  readonly references: readonly (readonly [variable: string, value: string])[];
}

/** The spec of a definition, as the catalog and the admin API read it. */
export function specOf(definition: LogDestinationDefinition): DestinationSpec {
  // Every entry may carry LiteLLM's turn_off_message_logging, whether or not the definition lists it.
  return { vars: { ...definition.vars, vars: { ...COMMON_VARS, ...definition.vars.vars } }, environment: definition.environment ?? {} };
}

/**
 * The registered log destinations: every provider of a `@LogDestinationModule` in the application (built-in or not),
 * found with Nest's DiscoveryService when the application starts, on the request thread and on the delivery thread
 * alike. Two destinations per definition: `trusted` for entries set by the proxy admin or config (hosts may be
 * internal), `guarded` for entries set by team admins, whose every connection passes the SSRF guard (only public
 * addresses, or `general_settings.allowed_logging_hosts`).
 */
@Injectable()
export class DestinationRegistry implements DestinationCatalog, OnModuleInit {
  private readonly logger = new Logger('LogDestinations');
  private registered: ReadonlyMap<DestinationKind, Registered> | null = null;
  private imports: readonly ThreadImport[] = [];
  private readonly use: UsePolicy;
  /**
   * Resolved entries by everything they are resolved from: the source, the name, trust, the row and entry id their
   * secrets are bound to, and the stored vars as stored (encrypted values included: a change through the API, new
   * secrets or a re-encryption under a rotated key, stores new text, so a new key). Each event carries a snapshot
   * of its entry, so every batch of an entry otherwise decrypted and parsed the same vars again. Environment
   * references are compared with the environment on every use; entries with a host file path are not kept (the
   * file system is looked at each time). The secret box and the use policy are fixed for the registry's life.
   */
  private readonly resolved = new Map<string, CachedSettings>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly gateway: GatewaySettings,
    private readonly secrets: SecretBox,
  ) {
    this.use = {
      protectedEnv: ProtectedEnvironment.forConfig(gateway.config),
      hostFileDir: gateway.environment.GCS_SERVICE_ACCOUNT_DIR,
    };
  }

  onModuleInit(): void {
    this.collect();
  }

  /** The registered callback_names, in registration order (the built-in ones first). */
  get kinds(): readonly DestinationKind[] {
    return [...this.collect().keys()];
  }

  has(kind: unknown): kind is DestinationKind {
    return typeof kind === 'string' && this.collect().has(kind);
  }

  spec(kind: DestinationKind): DestinationSpec | undefined {
    return this.collect().get(kind)?.spec;
  }

  /** The files the delivery thread imports to host the same destination modules (see `@LogDestinationModule`). */
  get threadImports(): readonly ThreadImport[] {
    this.collect();
    return this.imports;
  }

  destinationFor(entry: Pick<LoggingEntry, 'callback_name' | 'trusted'>): LogDestination<unknown> | undefined {
    const registered = this.collect().get(entry.callback_name);
    return registered && (entry.trusted ? registered.trusted : registered.guarded);
  }

  /**
   * Stored vars → the destination's typed settings: decrypts secrets (bound to the entry's row: a value moved from
   * elsewhere fails) and resolves `os.environ/NAME` at use time. The save-time rules are checked again, as they may
   * have changed since: a reference to a variable that is now one of the gateway's own secrets is not resolved, and a
   * file path set through the API (`source` key or team) must still lie in GCS_SERVICE_ACCOUNT_DIR. Problems come
   * back as a message naming the variable, never its value.
   */
  settingsFor(entry: OwnedEntry, source: LoggingSource, env: NodeJS.ProcessEnv): UsableSettings | { error: string } {
    const key = JSON.stringify([source, entry.callback_name, entry.trusted === true, entry.owner?.table ?? null, entry.owner?.id ?? null, entry.entry_id, entry.callback_vars]);
    const cached = this.resolved.get(key);
    if (cached !== undefined && cached.references.every(([variable, value]) => env[variable] === value)) return cached.usable;
    const resolved = this.resolveSettings(entry, source, env);
    if (cached !== undefined) this.resolved.delete(key);
    if ('usable' in resolved && resolved.cacheable) {
      if (this.resolved.size >= SETTINGS_CACHE_MAX) this.resolved.delete(this.resolved.keys().next().value as string);
      this.resolved.set(key, { usable: resolved.usable, references: resolved.references });
    }
    return 'usable' in resolved ? resolved.usable : resolved;
  }

  private resolveSettings(
    entry: OwnedEntry,
    source: LoggingSource,
    env: NodeJS.ProcessEnv,
  ): { usable: UsableSettings; references: [string, string][]; cacheable: boolean } | { error: string } {
    let cacheable = true;
    let vars: Record<string, string>;
    try {
      vars = decryptSecretVars(this.secrets, entry.callback_vars, entryPlace(entry.owner, entry.entry_id));
    } catch (error) {
      return { error: (error as Error).message };
    }
    const kind = entry.callback_name;
    const registered = this.collect().get(kind);
    if (!registered) return { error: `callback_name ${kind} is not a destination registered on this gateway` };
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
      } else if (fromApi && registered.spec.vars.vars[name]?.hostFile === true && !isInlineJson(value)) {
        cacheable = false;
        const confined = confineHostFilePath(value.trim(), this.use.hostFileDir);
        if ('error' in confined) return { error: `${name}: ${confined.error}` };
        vars[name] = confined.path;
      }
    }
    const destination = entry.trusted ? registered.trusted : registered.guarded;
    // The names are checked for every destination, whether or not its parseSettings does it too.
    const nameErrors = checkVarNames(kind, registered.spec.vars, vars);
    const parsed = destination.parseSettings(vars);
    if ('errors' in parsed || nameErrors.length > 0) {
      const errors = 'errors' in parsed ? parsed.errors : nameErrors;
      const named = (field: string) => (references.has(field) ? `${field} (os.environ/${references.get(field)})` : field);
      return { error: errors.map((e) => `${named(e.field)}: ${e.message}`).join('; ') };
    }
    const spec = registered.spec.vars.vars;
    const has = (name: string) => Object.prototype.hasOwnProperty.call(spec, name);
    const secrets = Object.entries(vars).flatMap(([name, value]) => (has(name) && spec[name].secret ? credentialTexts(value) : []));
    const urls = Object.entries(vars).flatMap(([name, value]) => (has(name) && spec[name].url && value.trim() !== '' ? [value.trim()] : []));
    const used = [...references.values()].map((variable): [string, string] => [variable, env[variable] as string]);
    return { usable: { settings: parsed.settings, secrets, urls }, references: used, cacheable };
  }

  /**
   * Connect-time SSRF check for a team admin's entry of a destination that does not guard its own connections
   * (`guardsItsConnections`): every URL var must still reach a public address (or an allowed host) right before
   * the destination is used. A host that does not resolve is left to the destination's own attempt (a network
   * error, retried). Null when the entry may be used.
   */
  async egressProblem(entry: Pick<LoggingEntry, 'callback_name' | 'trusted'>, usable: UsableSettings): Promise<string | null> {
    if (entry.trusted || usable.urls.length === 0) return null;
    if (this.collect().get(entry.callback_name)?.definition.guardsItsConnections) return null;
    for (const url of usable.urls) {
      const problem = await connectTimeProblem(url, { allowedHosts: this.gateway.config.generalSettings.allowed_logging_hosts });
      if (problem !== null) return problem;
    }
    return null;
  }

  async closeAll(): Promise<void> {
    const all = [...this.collect().values()].flatMap((registered) => [registered.trusted, registered.guarded]);
    await Promise.allSettled(all.map((destination) => destination.close()));
  }

  /** Finds the definitions once, after Nest has created every provider (the first call comes from onModuleInit at the latest). */
  private collect(): ReadonlyMap<DestinationKind, Registered> {
    if (this.registered) return this.registered;
    const registered = new Map<DestinationKind, Registered>();
    const imports = new Map<string, ThreadImport>();
    const guardedEgress = { allowedHosts: this.gateway.config.generalSettings.allowed_logging_hosts };
    // Deepest modules first (the built-in ones, imported by LoggingModule), then in the order they were imported.
    const wrappers = this.discovery
      .getProviders({ metadataKey: LogDestinationProvider.KEY })
      .map((wrapper, index) => ({ wrapper, index, depth: wrapper.host?.distance ?? 0 }))
      .sort((a, b) => b.depth - a.depth || a.index - b.index)
      .map(({ wrapper }) => wrapper);
    for (const wrapper of wrappers) {
      const moduleClass = wrapper.host?.metatype;
      const where = `${wrapper.name} (in ${moduleClass?.name ?? 'an unknown module'})`;
      if (!wrapper.isDependencyTreeStatic()) throw new Error(`log destination ${where} must be a singleton provider`);
      const definition = wrapper.instance as LogDestinationDefinition | undefined;
      if (!definition) throw new Error(`log destination ${where} was not created`);
      const kind = definition.callbackName;
      if (typeof kind !== 'string' || !CALLBACK_NAME.test(kind)) {
        throw new Error(`log destination ${where}: callbackName must be lowercase letters, digits and _, starting with a letter`);
      }
      const existing = registered.get(kind);
      if (existing) {
        if (existing.definition.constructor === definition.constructor) continue; // one class provided by two modules
        throw new Error(`callback_name ${kind} is registered twice: by ${existing.definition.constructor.name} and by ${where}`);
      }
      const threadImport = threadImportOf(moduleClass);
      if (!threadImport) {
        throw new Error(`log destination ${where} must be registered by a module decorated with @LogDestinationModule (the delivery thread imports that module)`);
      }
      imports.set(`${threadImport.path}#${threadImport.exportName}`, threadImport);
      const spec = specOf(definition);
      registered.set(kind, { definition, spec, trusted: definition.create(undefined), guarded: definition.create(guardedEgress) });
      catalogueDestination(kind, spec);
    }
    this.registered = registered;
    this.imports = [...imports.values()];
    this.logger.debug(`log destinations: ${[...registered.keys()].join(', ')}`);
    return registered;
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
