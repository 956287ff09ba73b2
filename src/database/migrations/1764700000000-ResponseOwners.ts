import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ResponseOwners1764700000000 implements MigrationInterface {
  name = 'ResponseOwners1764700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "response_owner" (
        "id" varchar(200) NOT NULL,
        "model_id" varchar(256) NOT NULL,
        "model" text NOT NULL,
        "key_hash" char(64),
        "team_id" varchar(256),
        "master" boolean NOT NULL DEFAULT false,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_response_owner" PRIMARY KEY ("id"),
        CONSTRAINT "fk_response_owner_key" FOREIGN KEY ("key_hash") REFERENCES "virtual_keys"("token") ON DELETE CASCADE,
        CONSTRAINT "fk_response_owner_team" FOREIGN KEY ("team_id") REFERENCES "teams"("team_id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "idx_response_owner_created_at" ON "response_owner" ("created_at")`);
    await queryRunner.query(`CREATE INDEX "idx_response_owner_team_id" ON "response_owner" ("team_id")`);
    // The key's column is indexed for its cascade: deleting a key must not scan the table.
    await queryRunner.query(`CREATE INDEX "idx_response_owner_key_hash" ON "response_owner" ("key_hash")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "response_owner"`);
  }
}
