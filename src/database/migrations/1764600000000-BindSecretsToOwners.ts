import { Logger } from '@nestjs/common';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { LEGACY_SECRET_PREFIX, SECRET_PREFIX, type SecretBox } from '../../common/secret-box';
import { rewriteStoredSecrets, type SecretRewrite, type StoredSecretsReport } from '../../logging/secrets/stored-secrets';

/**
 * Binds every stored logging secret to the row, entry and variable it is stored in: `gh1:` values (AES-GCM without
 * associated data, so they could be moved to another row and still decrypt) become `gh2:` values whose associated
 * data names their place. Outbox rows (dead letters included) also get their entry's owner recorded.
 *
 * Data, not schema: it needs the key material, which TypeORM cannot pass to a migration it instantiates itself, so
 * the gateway registers `withSecrets(box)` (a subclass holding the box; `ormconfig.ts` builds one from SALT_KEY,
 * SALT_KEY_PREVIOUS and MASTER_KEY for the CLI). A value no configured key opens is left as it is and reported (by
 * place, never by value): its destination then reports a configuration error, as it did before, until the key that
 * sealed it is configured (SALT_KEY_PREVIOUS) and `POST /secrets/reencrypt` binds it.
 */
export class BindSecretsToOwners1764600000000 implements MigrationInterface {
  name = 'BindSecretsToOwners1764600000000';

  constructor(private readonly secrets: SecretBox | null = null) {}

  /** The class to register: TypeORM calls `new` without arguments. */
  static withSecrets(secrets: SecretBox | null): new () => MigrationInterface {
    return class extends BindSecretsToOwners1764600000000 {
      constructor() {
        super(secrets);
      }
    };
  }

  public async up(queryRunner: QueryRunner): Promise<void> {
    const report = await this.rewrite(queryRunner, (value, binding) =>
      value.startsWith(LEGACY_SECRET_PREFIX) ? this.box().reseal(value, binding).value : value,
    );
    const logger = new Logger('Migration');
    if (report.rewritten > 0) logger.log(`${this.name}: ${report.rewritten} stored secret(s) bound to their row, entry and variable`);
    if (report.unreadable.length > 0) {
      const places = report.unreadable.map((place) =>
        place.table === 'virtual_keys' ? `a key's entry ${place.entry_id} ${place.field}` : `${place.table} ${place.row_id} entry ${place.entry_id} ${place.field}`,
      );
      logger.warn(
        `${this.name}: ${report.unreadable.length} stored secret(s) cannot be decrypted with SALT_KEY, SALT_KEY_PREVIOUS or the master key ` +
          `and stay in the legacy format; their destinations report a configuration error until the key that sealed them is in ` +
          `SALT_KEY_PREVIOUS and POST /secrets/reencrypt has run: ${places.slice(0, 20).join('; ')}${places.length > 20 ? '; …' : ''}`,
      );
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await this.rewrite(queryRunner, (value, binding) => (value.startsWith(SECRET_PREFIX) ? this.box().toLegacyFormat(value, binding) : value));
  }

  private rewrite(queryRunner: QueryRunner, rewrite: SecretRewrite): Promise<StoredSecretsReport> {
    // TypeORM runs the migration inside its own transaction: every batch joins it.
    return rewriteStoredSecrets((batch) => batch(queryRunner), rewrite);
  }

  private box(): SecretBox {
    if (this.secrets === null) {
      throw new Error(
        `${this.name} re-encrypts stored logging secrets and needs their key: set SALT_KEY (and SALT_KEY_PREVIOUS) or MASTER_KEY in the environment.`,
      );
    }
    return this.secrets;
  }
}
