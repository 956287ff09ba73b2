import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1764200000000 implements MigrationInterface {
  name = 'InitialSchema1764200000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "teams" (
        "team_id" varchar(256) NOT NULL,
        "team_alias" varchar(256),
        "metadata" jsonb NOT NULL DEFAULT '{}',
        "models" jsonb NOT NULL DEFAULT '[]',
        "blocked" boolean NOT NULL DEFAULT false,
        "source" varchar(16) NOT NULL DEFAULT 'api',
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_teams" PRIMARY KEY ("team_id")
      )`);
    await queryRunner.query(`
      CREATE TABLE "virtual_keys" (
        "token" char(64) NOT NULL,
        "key_name" varchar(32) NOT NULL,
        "key_alias" varchar(256),
        "team_id" varchar(256),
        "role" varchar(32),
        "metadata" jsonb NOT NULL DEFAULT '{}',
        "models" jsonb NOT NULL DEFAULT '[]',
        "blocked" boolean NOT NULL DEFAULT false,
        "expires_at" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_virtual_keys" PRIMARY KEY ("token"),
        CONSTRAINT "fk_virtual_keys_team" FOREIGN KEY ("team_id") REFERENCES "teams"("team_id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "idx_virtual_keys_team_id" ON "virtual_keys" ("team_id")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "virtual_keys"`);
    await queryRunner.query(`DROP TABLE "teams"`);
  }
}
