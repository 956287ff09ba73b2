import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A team member's own rate limits within the team (LiteLLM's `/team/member_update` `tpm_limit` / `rpm_limit`). */
export class TeamMemberLimits1764900000000 implements MigrationInterface {
  name = 'TeamMemberLimits1764900000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "team_members" ADD COLUMN "rpm_limit" integer, ADD COLUMN "tpm_limit" integer`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "team_members" DROP COLUMN "rpm_limit", DROP COLUMN "tpm_limit"`);
  }
}
