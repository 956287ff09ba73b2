import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TeamLoggingAndAudit1764300000000 implements MigrationInterface {
  name = 'TeamLoggingAndAudit1764300000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "teams" ADD "logging_disabled" boolean NOT NULL DEFAULT false`);
    await queryRunner.query(`
      CREATE TABLE "audit_log" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "changed_by" varchar(256) NOT NULL,
        "action" varchar(64) NOT NULL,
        "table_name" varchar(64) NOT NULL,
        "object_id" varchar(256) NOT NULL,
        "team_id" varchar(256),
        "before_value" jsonb,
        "updated_values" jsonb,
        CONSTRAINT "PK_audit_log" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(`CREATE INDEX "idx_audit_log_team_id_updated_at" ON "audit_log" ("team_id", "updated_at")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "audit_log"`);
    await queryRunner.query(`ALTER TABLE "teams" DROP COLUMN "logging_disabled"`);
  }
}
