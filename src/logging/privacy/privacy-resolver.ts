import { Injectable } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { GatewaySettings } from '../../config/gateway-settings';
import type { Principal } from '../../keys/principal';
import type { ResolvedEntry } from '../logging-entry';
import type { PiiMaskingConfig } from './pii-masker';
import { readFlag, readLoggingSettings, type PrivacyLayer } from './privacy-settings';

/** Where an effective setting came from; `default` when no level sets it. */
export type PrivacySource = 'default' | 'global' | 'config' | 'team' | 'key';

export interface EffectiveSetting<T> {
  readonly value: T;
  readonly source: PrivacySource;
}

/** What a caller's calls get, after global < team (config, then API) < key. Request headers come on top. */
export interface EffectivePrivacy {
  readonly turn_off_message_logging: EffectiveSetting<boolean>;
  readonly redact_user_api_key_info: EffectiveSetting<boolean>;
  readonly no_log_allowed: EffectiveSetting<boolean>;
  readonly allow_client_message_redaction_opt_out: EffectiveSetting<boolean>;
  readonly pii_masking: EffectiveSetting<PiiMaskingConfig | null>;
}

/** LiteLLM's per-request headers, read by the logging interceptor. */
export interface RequestPrivacyHints {
  /** `x-litellm-enable-message-redaction` / `litellm-enable-message-redaction`: always honoured (it only adds privacy). */
  readonly enableRedaction: boolean;
  /** `litellm-disable-message-redaction`: honoured only where `allow_client_message_redaction_opt_out` is on. */
  readonly disableRedaction: boolean;
}

export const NO_HINTS: RequestPrivacyHints = { enableRedaction: false, disableRedaction: false };

export function privacyHints(headers: IncomingHttpHeaders): RequestPrivacyHints {
  const on = (...names: string[]) => names.some((name) => readFlag(headers[name]) === true);
  return {
    enableRedaction: on('x-litellm-enable-message-redaction', 'litellm-enable-message-redaction'),
    disableRedaction: on('litellm-disable-message-redaction', 'x-litellm-disable-message-redaction'),
  };
}

type Level = { source: Exclude<PrivacySource, 'default'>; layer: PrivacyLayer };

/**
 * The privacy switches in force for a caller, with where each came from (for `/key/info`, the team callback
 * route and `/key/health`). Memoized per Principal object, which the principal cache replaces on every write.
 */
@Injectable()
export class PrivacyResolver {
  private readonly memo = new WeakMap<Principal, EffectivePrivacy>();
  private readonly global: PrivacyLayer;
  private readonly configTeams = new Map<string, PrivacyLayer>();

  constructor(settings: GatewaySettings) {
    const { litellmSettings, generalSettings } = settings.config;
    this.global = {
      ...litellmSettings.privacy,
      // LiteLLM's docs put the switch in either section; either one forbids `no-log`.
      ...(generalSettings.global_disable_no_log_param === true ? { disable_no_log_param: true } : {}),
    };
    for (const team of litellmSettings.default_team_settings) this.configTeams.set(team.team_id, team.privacy);
  }

  resolve(principal: Principal): EffectivePrivacy {
    let effective = this.memo.get(principal);
    if (effective === undefined) {
      effective = this.compute(principal.teamId, principal.teamMetadata, principal.kind === 'key' ? principal.keyMetadata : null);
      this.memo.set(principal, effective);
    }
    return effective;
  }

  /** A team's settings as its keys without their own inherit them. */
  forTeam(teamId: string, teamMetadata: Readonly<Record<string, unknown>>): EffectivePrivacy {
    return this.compute(teamId, teamMetadata, null);
  }

  /** Whether this call's messages and answer are replaced by the marker for this destination entry. */
  redactsMessages(effective: EffectivePrivacy, hints: RequestPrivacyHints, entry: ResolvedEntry): boolean {
    if (hints.enableRedaction) return true;
    if (hints.disableRedaction && effective.allow_client_message_redaction_opt_out.value) return false;
    // LiteLLM's per-destination `callback_vars.turn_off_message_logging` is the most specific stored level.
    const own = readFlag(entry.callback_vars.turn_off_message_logging);
    return own ?? effective.turn_off_message_logging.value;
  }

  private compute(teamId: string | null, teamMetadata: Readonly<Record<string, unknown>>, keyMetadata: Readonly<Record<string, unknown>> | null): EffectivePrivacy {
    // Most specific first.
    const levels: Level[] = [];
    if (keyMetadata !== null) levels.push({ source: 'key', layer: storedLayer(keyMetadata) });
    if (teamId !== null) {
      levels.push({ source: 'team', layer: storedLayer(teamMetadata) });
      const config = this.configTeams.get(teamId);
      if (config !== undefined) levels.push({ source: 'config', layer: config });
    }
    levels.push({ source: 'global', layer: this.global });
    const pick = <K extends keyof PrivacyLayer>(name: K, fallback: NonNullable<PrivacyLayer[K]> | null) => {
      for (const level of levels) {
        const value = level.layer[name];
        if (value !== undefined) return { value: value as NonNullable<PrivacyLayer[K]> | null, source: level.source };
      }
      return { value: fallback, source: 'default' as const };
    };
    const noLogDisabled = pick('disable_no_log_param', false);
    return {
      turn_off_message_logging: pick('turn_off_message_logging', false) as EffectiveSetting<boolean>,
      redact_user_api_key_info: pick('redact_user_api_key_info', false) as EffectiveSetting<boolean>,
      no_log_allowed: { value: noLogDisabled.value !== true, source: noLogDisabled.source },
      allow_client_message_redaction_opt_out: pick('allow_client_message_redaction_opt_out', false) as EffectiveSetting<boolean>,
      pii_masking: pick('pii_masking', null),
    };
  }
}

/**
 * A stored `metadata.logging_settings`. It was validated when written; one that no longer reads (edited in the
 * database by hand) applies nothing rather than failing every request.
 */
function storedLayer(metadata: Readonly<Record<string, unknown>>): PrivacyLayer {
  if (metadata.logging_settings === undefined || metadata.logging_settings === null) return {};
  const read = readStoredLayer(metadata.logging_settings);
  return read ?? {};
}

const storedLayers = new WeakMap<object, PrivacyLayer | null>();

/** Parsing repeats per principal object; the metadata object itself survives across them, so cache by it. */
function readStoredLayer(raw: unknown): PrivacyLayer | null {
  if (raw === null || typeof raw !== 'object') return null;
  let layer = storedLayers.get(raw);
  if (layer === undefined) {
    const read = readLoggingSettings(raw, { checkPatterns: false });
    layer = 'layer' in read ? read.layer : null;
    storedLayers.set(raw, layer);
  }
  return layer;
}
