import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Who made a response an OpenAI or Azure upstream keeps, through which deployment: `GET` / `DELETE
 * /v1/responses/{id}` and `previous_response_id` go to that deployment, for the same key or a key of its team only.
 * In the database so a restart or another instance still knows it; nothing of the response itself is kept here.
 */
@Entity({ name: 'response_owner' })
@Index('idx_response_owner_created_at', ['createdAt'])
export class ResponseOwnerRow {
  /** The upstream's response id (`resp_…`). */
  @PrimaryColumn({ type: 'varchar', length: 200 })
  id: string;

  /** The deployment's `model_info.id`. */
  @Column({ name: 'model_id', type: 'varchar', length: 256 })
  modelId: string;

  /** The model name the caller asked for (a wildcard's match included): its access is checked again on each use. */
  @Column({ type: 'text' })
  model: string;

  @Column({ name: 'key_hash', type: 'varchar', length: 64, nullable: true })
  keyHash: string | null;

  @Column({ name: 'team_id', type: 'varchar', length: 256, nullable: true })
  teamId: string | null;

  /** Made with the master key: only the master key sees it. */
  @Column({ type: 'boolean', default: false })
  master: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
