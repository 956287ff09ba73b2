import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { VirtualKey } from '../../keys/key.entity';
import { Team } from '../../teams/team.entity';

/**
 * Who made a response an OpenAI or Azure upstream keeps, through which deployment: `GET` / `DELETE
 * /v1/responses/{id}` and `previous_response_id` go to that deployment, for the same key or a key of its team only.
 * In the database so a restart or another instance still knows it; nothing of the response itself is kept here.
 * Deleting the key or the team deletes the row: a team created again under the same id does not inherit it.
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

  @Index('idx_response_owner_key_hash')
  @Column({ name: 'key_hash', type: 'char', length: 64, nullable: true })
  keyHash: string | null;

  @ManyToOne(() => VirtualKey, { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'key_hash', referencedColumnName: 'token', foreignKeyConstraintName: 'fk_response_owner_key' })
  key?: VirtualKey | null;

  @Index('idx_response_owner_team_id')
  @Column({ name: 'team_id', type: 'varchar', length: 256, nullable: true })
  teamId: string | null;

  @ManyToOne(() => Team, { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'team_id', referencedColumnName: 'teamId', foreignKeyConstraintName: 'fk_response_owner_team' })
  team?: Team | null;

  /** Made with the master key: only the master key sees it. */
  @Column({ type: 'boolean', default: false })
  master: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
