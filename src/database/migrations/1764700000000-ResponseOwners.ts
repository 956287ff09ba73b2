import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ResponseOwners1764700000000 implements MigrationInterface {
  name = 'ResponseOwners1764700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "response_owner" (
        "id" varchar(200) NOT NULL,
        "model_id" varchar(256) NOT NULL,
        "model" text NOT NULL,
        "key_hash" varchar(64),
        "team_id" varchar(256),
        "master" boolean NOT NULL DEFAULT false,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_response_owner" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(`CREATE INDEX "idx_response_owner_created_at" ON "response_owner" ("created_at")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "response_owner"`);
  }
}
