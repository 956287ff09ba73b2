import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { decryptSecretVars, encryptSecretVars, isEncrypted, SecretBox } from '../common/secret-box';
import { envReferenceName, isEnvReference } from '../config/env-reference';
import { GatewaySettings } from '../config/gateway-settings';
import { ProtectedEnvironment } from '../config/protected-env';
import { AppException } from '../errors';
import type { Principal } from '../keys/principal';
import { DestinationRegistry } from './delivery/destination-registry';
import { confineHostFilePath, isInlineJson } from './host-file-path';
import { checkVarNames, varSpec, type DestinationSpec, type DestinationVarSpec, type LogDestination } from './log-destination';
import { CALLBACK_TYPES, entryPlace, SECRET_MASK, type CallbackType, type EntryOwner, type LoggingEntry } from './logging-entry';
import { assertPublicHttpUrl } from './ssrf-guard';

const ENTRY_FIELDS = new Set(['callback_name', 'callback_type', 'callback_vars']);
const MAX_VAR_LENGTH = 32 * 1024;
const MAX_ENTRIES = 20;

/**
 * Every logging entry that arrives through the API passes here before it is stored: the same rules for
 * `POST /team/{id}/callback`, team metadata and key metadata. The result has secrets encrypted, env
 * references kept as references, an id, and whether the proxy admin set it.
 */
@Injectable()
export class LoggingEntryPolicy {
  constructor(
    private readonly settings: GatewaySettings,
    private readonly destinations: DestinationRegistry,
    private readonly secrets: SecretBox,
  ) {}

  /**
   * A `metadata.logging` list for `owner`'s row (its secrets are bound to it). `param` is the path used in error
   * messages, e.g. `metadata.logging`.
   */
  async prepareList(raw: unknown, caller: Principal, owner: EntryOwner, param: string): Promise<LoggingEntry[]> {
    if (!Array.isArray(raw)) throw invalid(param, `${param} must be a list of logging entries`);
    if (raw.length > MAX_ENTRIES) throw invalid(param, `${param} may hold at most ${MAX_ENTRIES} entries`);
    const entries: LoggingEntry[] = [];
    for (const [index, item] of raw.entries()) entries.push(await this.prepare(item, caller, owner, `${param}[${index}].`));
    return entries;
  }

  /** One entry for `owner`'s row. `prefix` is prepended to field names in errors (`''` for the callback route's body). */
  async prepare(raw: unknown, caller: Principal, owner: EntryOwner, prefix = ''): Promise<LoggingEntry> {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw invalid(prefix.replace(/\.$/, '') || 'body', 'a logging entry must be an object with callback_name, callback_type and callback_vars');
    }
    const body = raw as Record<string, unknown>;
    for (const field of Object.keys(body)) {
      if (!ENTRY_FIELDS.has(field)) {
        throw new AppException('unrecognized_field', `Unrecognized request argument supplied: ${prefix}${field}`, { param: `${prefix}${field}` });
      }
    }
    const kind = body.callback_name;
    if (!this.destinations.has(kind)) {
      throw invalid(`${prefix}callback_name`, `callback_name must be one of ${this.destinations.kinds.join(', ')}`);
    }
    const spec = this.destinations.spec(kind) as DestinationSpec;
    const varOf = (name: string): DestinationVarSpec | undefined => (Object.prototype.hasOwnProperty.call(spec.vars.vars, name) ? spec.vars.vars[name] : undefined);
    const type = body.callback_type === undefined ? 'success_and_failure' : body.callback_type;
    if (!(CALLBACK_TYPES as readonly unknown[]).includes(type)) {
      throw invalid(`${prefix}callback_type`, `callback_type must be one of ${CALLBACK_TYPES.join(', ')}`);
    }
    const vars = this.readVars(body.callback_vars, `${prefix}callback_vars`);
    const varParam = (name: string) => `${prefix}callback_vars.${name}`;
    const nonAdmin = !caller.isProxyAdmin;

    const nameErrors = checkVarNames(kind, spec.vars, vars, { nonAdmin });
    if (nameErrors.length > 0) throw invalid(varParam(nameErrors[0].field), nameErrors[0].message);

    const preview: Record<string, string> = {};
    for (const [name, value] of Object.entries(vars)) {
      if (value === SECRET_MASK) {
        throw invalid(varParam(name), `${name} holds the mask ${SECRET_MASK}: send the real value`);
      }
      // Ciphertexts never leave the gateway; one pasted in was copied from a database and is bound to another place.
      if (isEncrypted(value)) throw invalid(varParam(name), `${name} holds an encrypted stored value: send the real value`);
      preview[name] = isEnvReference(value) ? this.checkEnvReference(value, nonAdmin, varParam(name)) : this.checkHostFile(varOf(name), name, value, varParam(name));
    }
    const parsed = (this.destinations.destinationFor({ callback_name: kind, trusted: !nonAdmin }) as LogDestination<unknown>).parseSettings(preview);
    if ('errors' in parsed) {
      const { field, message } = parsed.errors[0];
      const variable = envReferenceName(vars[field]);
      throw invalid(varParam(field), variable === null ? message : `${field} (os.environ/${variable}): ${message}`);
    }

    if (nonAdmin) {
      for (const [name, value] of Object.entries(vars)) {
        if (!varOf(name)?.url) continue;
        try {
          await assertPublicHttpUrl(value, { allowedHosts: this.settings.config.generalSettings.allowed_logging_hosts });
        } catch (error) {
          throw invalid(varParam(name), `${name} is not allowed: ${(error as Error).message}`);
        }
      }
    }
    const entryId = randomUUID();
    return {
      callback_name: kind,
      callback_type: type as CallbackType,
      callback_vars: encryptSecretVars(this.secrets, vars, (name) => varOf(name)?.secret === true && !isEnvReference(vars[name]), entryPlace(owner, entryId)),
      entry_id: entryId,
      trusted: !nonAdmin,
    };
  }

  /**
   * LiteLLM refuses a second entry with the same name and type. Entries are not flattened here, so only a
   * true duplicate is refused: same name, same type and the same credentials and settings.
   */
  isDuplicate(existing: readonly LoggingEntry[], candidate: LoggingEntry, owner: EntryOwner): boolean {
    const fingerprint = this.fingerprint(candidate, owner);
    return existing.some(
      (entry) =>
        entry.callback_name === candidate.callback_name && entry.callback_type === candidate.callback_type && this.fingerprint(entry, owner) === fingerprint,
    );
  }

  private fingerprint(entry: LoggingEntry, owner: EntryOwner): string {
    let vars: Record<string, string>;
    try {
      vars = decryptSecretVars(this.secrets, entry.callback_vars, entryPlace(owner, entry.entry_id));
    } catch {
      return `undecryptable:${entry.entry_id}`;
    }
    const canonical = Object.entries(vars)
      .map(([name, value]) => [varSpec(entry.callback_name, name)?.aliasOf ?? name, value.trim()])
      .sort(([a], [b]) => a.localeCompare(b));
    return JSON.stringify(canonical);
  }

  /** Decision d: only the proxy admin may reference the environment, and never its crown jewels. */
  private checkEnvReference(value: string, nonAdmin: boolean, param: string): string {
    if (nonAdmin) {
      throw invalid(param, 'os.environ/ references are accepted only from the proxy admin or config.yaml; send the value itself');
    }
    const name = envReferenceName(value);
    if (name === null) throw invalid(param, `${value.slice(0, 64)} is not a valid os.environ/NAME reference`);
    if (ProtectedEnvironment.forConfig(this.settings.config).refuses(name)) throw invalid(param, ProtectedEnvironment.refusal(name));
    const resolved = process.env[name];
    if (resolved === undefined || resolved === '') throw invalid(param, `environment variable ${name} is not set on the gateway`);
    return resolved;
  }

  /**
   * A file path typed into the API is a file read on the gateway host: only files inside GCS_SERVICE_ACCOUNT_DIR,
   * checked before the file is even opened for validation. Inline JSON is the credential itself.
   */
  private checkHostFile(spec: DestinationVarSpec | undefined, name: string, value: string, param: string): string {
    if (!spec?.hostFile || isInlineJson(value)) return value;
    const confined = confineHostFilePath(value.trim(), this.settings.environment.GCS_SERVICE_ACCOUNT_DIR);
    if ('error' in confined) throw invalid(param, `${name}: ${confined.error}`);
    return confined.path;
  }

  private readVars(raw: unknown, param: string): Record<string, string> {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw invalid(param, 'callback_vars must be an object of strings');
    }
    const vars: Record<string, string> = {};
    for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
      // Text, except LiteLLM's one switch (`turn_off_message_logging: true`, as the README shows). A number or
      // another boolean was silently made a string, so a typo'd `0.5` or `true` looked accepted.
      if (typeof value !== 'string' && !(typeof value === 'boolean' && name === 'turn_off_message_logging')) {
        throw invalid(`${param}.${name}`, `${param}.${name} must be a string`);
      }
      const text = String(value);
      if (text.length > MAX_VAR_LENGTH) throw invalid(`${param}.${name}`, `${name} is longer than ${MAX_VAR_LENGTH} characters`);
      vars[name] = text;
    }
    return vars;
  }
}

function invalid(param: string, message: string): AppException {
  return new AppException('validation_failed', message, { param });
}
