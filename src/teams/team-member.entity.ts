import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { User } from '../users/user.entity';
import { Team } from './team.entity';

/** LiteLLM's team roles: a team's `admin` members manage it (its keys and logging) as a `team_admin` key does. */
export const TEAM_MEMBER_ROLES = ['admin', 'user'] as const;
export type TeamMemberRole = (typeof TEAM_MEMBER_ROLES)[number];

/** A user's membership of a team (LiteLLM's `members_with_roles` and `LiteLLM_TeamMembership`). */
@Entity({ name: 'team_members' })
export class TeamMember {
  @PrimaryColumn({ name: 'team_id', type: 'varchar', length: 256 })
  teamId: string;

  @Index('idx_team_members_user_id')
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 256 })
  userId: string;

  @ManyToOne(() => Team, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'team_id', referencedColumnName: 'teamId', foreignKeyConstraintName: 'fk_team_members_team' })
  team?: Team;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', referencedColumnName: 'userId', foreignKeyConstraintName: 'fk_team_members_user' })
  user?: User;

  @Column({ type: 'varchar', length: 16, default: 'user' })
  role: TeamMemberRole;

  /** The member's spend on this team's keys, and its cap within the team (`max_budget_in_team`). */
  @Column({ type: 'double precision', default: 0 })
  spend: number;

  @Column({ name: 'max_budget_in_team', type: 'double precision', nullable: true })
  maxBudgetInTeam: number | null;

  /** The member's own rate limits within the team (`/team/member_update`). */
  @Column({ name: 'rpm_limit', type: 'integer', nullable: true })
  rpmLimit: number | null;

  @Column({ name: 'tpm_limit', type: 'integer', nullable: true })
  tpmLimit: number | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
