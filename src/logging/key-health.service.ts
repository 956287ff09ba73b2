import { Inject, Injectable } from '@nestjs/common';
import { SecretRedactor } from '../common/secret-redactor';
import type { Principal } from '../keys/principal';
import { DestinationRegistry } from './delivery/destination-registry';
import type { LogDestination } from './log-destination';
import { keyOwner, storedEntries, type ResolvedEntry } from './logging-entry';
import { LoggingResolver, withSource } from './request/logging-resolver';
import { PrivacyResolver, type EffectivePrivacy } from './privacy/privacy-resolver';

export interface KeyHealthResponse {
  key: 'healthy' | 'unhealthy';
  logging_callbacks: { callbacks: string[]; status: 'healthy' | 'unhealthy'; details: string } | null;
  /** What the destinations receive of this key's calls: the privacy switches in force and where each comes from. */
  privacy: EffectivePrivacy;
}

/**
 * `POST /key/health`: LiteLLM's response shape, but a real check. Every destination resolved for the key
 * and for its team is probed directly (credentials accepted, bucket writable, endpoint reachable, env
 * variables set), in parallel, without writing any data.
 */
@Injectable()
export class KeyHealthService {
  constructor(
    private readonly resolver: LoggingResolver,
    private readonly destinations: DestinationRegistry,
    private readonly privacy: PrivacyResolver,
    @Inject(SecretRedactor) private readonly redactor: SecretRedactor,
  ) {}

  async check(principal: Principal): Promise<KeyHealthResponse> {
    const entries = this.entriesToCheck(principal);
    const privacy = this.privacy.resolve(principal);
    if (entries.length === 0) return { key: 'healthy', logging_callbacks: null, privacy };

    const results = await Promise.all(
      entries.map(async (entry) => {
        const label = `${entry.callback_name} (${entry.source})`;
        const resolved = this.destinations.settingsFor(entry, entry.source, process.env);
        if ('error' in resolved) return { label, healthy: false, details: resolved.error };
        // The answer goes to the key's holder: a destination's words about the credentials it refused are redacted.
        try {
          const blocked = await this.destinations.egressProblem(entry, resolved);
          if (blocked !== null) return { label, healthy: false, details: `blocked: ${blocked}` };
          const health = await (this.destinations.destinationFor(entry) as LogDestination<unknown>).checkHealth(resolved.settings);
          return { label, healthy: health.healthy, details: health.healthy ? health.details : this.redactor.redact(health.details, resolved.secrets) };
        } catch (error) {
          return { label, healthy: false, details: this.redactor.redact(error instanceof Error ? error.message : 'health check failed', resolved.secrets) };
        }
      }),
    );
    const callbacks = [...new Set(entries.map((entry) => entry.callback_name))];
    const failures = results.filter((result) => !result.healthy);
    if (failures.length === 0) {
      return {
        key: 'healthy',
        logging_callbacks: {
          callbacks,
          status: 'healthy',
          details: `No logger exceptions triggered, system is healthy. Checked ${results.map((r) => r.label).join(', ')}: credentials accepted, destinations reachable`,
        },
        privacy,
      };
    }
    return {
      key: 'unhealthy',
      logging_callbacks: {
        callbacks,
        status: 'unhealthy',
        details: `Logger exceptions triggered, system is unhealthy: ${failures.map((f) => `${f.label}: ${f.details}`).join('; ')}`,
      },
      privacy,
    };
  }

  /** The key's own entries and its team's, both — not only the one that wins at request time. */
  private entriesToCheck(principal: Principal): readonly ResolvedEntry[] {
    if (principal.teamLoggingDisabled) return [];
    const own = withSource(storedEntries(principal.keyMetadata) ?? [], 'key', principal.keyHash === null ? null : keyOwner(principal.keyHash));
    const team = principal.teamId === null ? [] : this.resolver.teamView(principal.teamId, principal.teamMetadata, false).entries;
    if (own.length > 0 || team.length > 0) return [...own, ...team];
    return this.resolver.resolve(principal);
  }
}
