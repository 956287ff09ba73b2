import type { MigrationInterface, QueryRunner } from 'typeorm';

const TABLES = ['virtual_keys', 'teams', 'users'];

/**
 * Where each `model_max_budget` entry's own period ends (`{"gpt-4o": "2025-01-02T00:00:00.000Z"}`), so the budget
 * reset job can clear one model's spend without touching the others (budgets/budget-reset-job.ts).
 */
export class ModelBudgetPeriods1764910000000 implements MigrationInterface {
  name = 'ModelBudgetPeriods1764910000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of TABLES) {
      await queryRunner.query(`ALTER TABLE "${table}" ADD COLUMN "model_budget_reset_at" jsonb NOT NULL DEFAULT '{}'`);
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of TABLES) await queryRunner.query(`ALTER TABLE "${table}" DROP COLUMN "model_budget_reset_at"`);
  }
}
