import type { MigrationInterface, QueryRunner } from 'typeorm';
import { USAGE_LIMIT_COLUMNS_SQL } from '../../budgets/usage-limits';

/** Users, team members, end users; spend, budgets and rate limits on keys, teams and users (issue 26). */
export class UsersBudgetsAndLimits1764800000000 implements MigrationInterface {
  name = 'UsersBudgetsAndLimits1764800000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "users" (
        "user_id" varchar(256) NOT NULL,
        "user_email" varchar(320),
        "user_alias" varchar(256),
        "user_role" varchar(32),
        "metadata" jsonb NOT NULL DEFAULT '{}',
        "models" jsonb NOT NULL DEFAULT '[]',
        ${USAGE_LIMIT_COLUMNS_SQL.join(',\n        ')},
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_users" PRIMARY KEY ("user_id")
      )`);
    await queryRunner.query(`CREATE INDEX "idx_users_user_email" ON "users" ("user_email")`);
    await queryRunner.query(`
      CREATE TABLE "team_members" (
        "team_id" varchar(256) NOT NULL,
        "user_id" varchar(256) NOT NULL,
        "role" varchar(16) NOT NULL DEFAULT 'user',
        "spend" double precision NOT NULL DEFAULT 0,
        "max_budget_in_team" double precision,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_team_members" PRIMARY KEY ("team_id", "user_id"),
        CONSTRAINT "fk_team_members_team" FOREIGN KEY ("team_id") REFERENCES "teams"("team_id") ON DELETE CASCADE,
        CONSTRAINT "fk_team_members_user" FOREIGN KEY ("user_id") REFERENCES "users"("user_id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "idx_team_members_user_id" ON "team_members" ("user_id")`);
    await queryRunner.query(`
      CREATE TABLE "end_users" (
        "user_id" varchar(256) NOT NULL,
        "spend" double precision NOT NULL DEFAULT 0,
        "max_budget" double precision,
        "blocked" boolean NOT NULL DEFAULT false,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_end_users" PRIMARY KEY ("user_id")
      )`);
    for (const table of ['virtual_keys', 'teams']) {
      await queryRunner.query(`ALTER TABLE "${table}" ${USAGE_LIMIT_COLUMNS_SQL.map((column) => `ADD COLUMN ${column}`).join(', ')}`);
    }
    await queryRunner.query(`ALTER TABLE "virtual_keys" ADD COLUMN "user_id" varchar(256)`);
    await queryRunner.query(
      `ALTER TABLE "virtual_keys" ADD CONSTRAINT "fk_virtual_keys_user" FOREIGN KEY ("user_id") REFERENCES "users"("user_id") ON DELETE CASCADE`,
    );
    await queryRunner.query(`CREATE INDEX "idx_virtual_keys_user_id" ON "virtual_keys" ("user_id")`);
    // The reset job looks for rows whose budget period is over.
    for (const table of ['virtual_keys', 'teams', 'users']) {
      await queryRunner.query(`CREATE INDEX "idx_${table}_budget_reset_at" ON "${table}" ("budget_reset_at") WHERE "budget_reset_at" IS NOT NULL`);
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "virtual_keys" DROP CONSTRAINT "fk_virtual_keys_user"`);
    await queryRunner.query(`DROP INDEX "idx_virtual_keys_user_id"`);
    await queryRunner.query(`ALTER TABLE "virtual_keys" DROP COLUMN "user_id"`);
    const columns = USAGE_LIMIT_COLUMNS_SQL.map((column) => column.split(' ')[0]);
    for (const table of ['virtual_keys', 'teams']) {
      await queryRunner.query(`DROP INDEX "idx_${table}_budget_reset_at"`);
      await queryRunner.query(`ALTER TABLE "${table}" ${columns.map((column) => `DROP COLUMN ${column}`).join(', ')}`);
    }
    await queryRunner.query(`DROP TABLE "end_users"`);
    await queryRunner.query(`DROP TABLE "team_members"`);
    await queryRunner.query(`DROP TABLE "users"`);
  }
}
