import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** The caller's own customer: a request's `user` field (LiteLLM's `LiteLLM_EndUserTable`). Rows appear with their first spend. */
@Entity({ name: 'end_users' })
export class EndUser {
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 256 })
  userId: string;

  @Column({ type: 'double precision', default: 0 })
  spend: number;

  @Column({ name: 'max_budget', type: 'double precision', nullable: true })
  maxBudget: number | null;

  @Column({ type: 'boolean', default: false })
  blocked: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
