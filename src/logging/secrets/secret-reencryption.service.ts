import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import { SecretBox } from '../../common/secret-box';
import { PrincipalCache } from '../../keys/principal-cache';
import type { ChangeContext } from '../../teams/teams.service';
import { rewriteStoredSecrets, type SecretLocation } from './stored-secrets';

/** At most this many unreadable places are listed in an answer; `failed` counts them all. */
const MAX_LISTED = 100;

export interface ReencryptionReport {
  /** Values encrypted again with the current key (they needed SALT_KEY_PREVIOUS or the master key, or were `gh1:`). */
  reencrypted: number;
  /** Values already encrypted with the current key, left as they are. */
  already_current: number;
  /** Values no configured key opens: left as they are, listed in `unreadable`. */
  failed: number;
  unreadable: SecretLocation[];
  dry_run: boolean;
}

/**
 * `POST /secrets/reencrypt`: after SALT_KEY changed (the old key in SALT_KEY_PREVIOUS), every stored logging secret
 * is encrypted again with the current key, bound to its row, entry and variable, so the old key can be dropped.
 * Batches of rows, each in its own transaction under row locks, so admin writes in between are never lost.
 */
@Injectable()
export class SecretReencryptionService {
  private readonly logger = new Logger(SecretReencryptionService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly secrets: SecretBox,
    private readonly principals: PrincipalCache,
    private readonly audit: AuditService,
  ) {}

  async reencrypt(options: { dryRun: boolean }, context: ChangeContext): Promise<ReencryptionReport> {
    const result = await rewriteStoredSecrets(
      (batch) => this.dataSource.transaction((manager) => batch(manager)),
      (value, binding) => this.secrets.reseal(value, binding).value,
      { dryRun: options.dryRun },
    );
    const report: ReencryptionReport = {
      reencrypted: result.rewritten,
      already_current: result.unchanged,
      failed: result.unreadable.length,
      unreadable: result.unreadable.slice(0, MAX_LISTED),
      dry_run: options.dryRun,
    };
    if (options.dryRun) return report;
    // Cached principals hold the metadata as it was read; the next request reads the new ciphertexts.
    for (const teamId of result.changedTeams) this.principals.invalidateTeam(teamId);
    for (const token of result.changedKeys) this.principals.invalidateKey(token);
    await this.audit.record({
      ...context,
      action: 'secrets_reencrypted',
      tableName: 'stored_secrets',
      objectId: 'all',
      teamId: null,
      before: null,
      after: { reencrypted: report.reencrypted, already_current: report.already_current, failed: report.failed },
    });
    this.logger.log(`stored secrets re-encrypted with the current key: ${report.reencrypted}; already current: ${report.already_current}; unreadable: ${report.failed}`);
    return report;
  }
}
