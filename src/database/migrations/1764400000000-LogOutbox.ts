import type { MigrationInterface, QueryRunner } from 'typeorm';

export class LogOutbox1764400000000 implements MigrationInterface {
  name = 'LogOutbox1764400000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "log_outbox" (
        "id" BIGSERIAL NOT NULL,
        "event_id" varchar(300) NOT NULL,
        "entry_id" varchar(300) NOT NULL,
        "kind" varchar(32) NOT NULL,
        "source" varchar(16) NOT NULL,
        "team_id" varchar(256),
        "entry" jsonb NOT NULL,
        "payload" jsonb NOT NULL,
        "status" varchar(16) NOT NULL DEFAULT 'pending',
        "attempts" integer NOT NULL DEFAULT 0,
        "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "claimed_by" varchar(64),
        "claimed_until" TIMESTAMP WITH TIME ZONE,
        "last_error" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_log_outbox" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_log_outbox_event_id" ON "log_outbox" ("event_id")`);
    await queryRunner.query(`CREATE INDEX "idx_log_outbox_claimable" ON "log_outbox" ("status", "kind", "next_attempt_at")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "log_outbox"`);
  }
}
