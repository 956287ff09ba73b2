import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsDefined, IsIn, IsInt, IsNumber, IsObject, IsOptional, IsString, Length, Min } from 'class-validator';
import { IsOptionalModelList, IsResourceId } from '../../common/dto-fields';
import { declareStoredFields, TEAM_NEW_STORED, TEAM_UPDATE_STORED } from '../../management/stored-fields';
import { UsageLimitsInputDto, UsageLimitsResponseDto } from '../../management/usage-limits.dto';
import { TEAM_MEMBER_ROLES, type TeamMemberRole } from '../team-member.entity';

/** LiteLLM's `Member`: a user by id or email, with its role in the team. */
export class MemberDto {
  @ApiPropertyOptional({ example: 'ana@example.com', description: 'user_id or user_email (at least one)' })
  user_id?: string | null;

  @ApiPropertyOptional({ example: 'ana@example.com' })
  user_email?: string | null;

  @ApiProperty({ enum: TEAM_MEMBER_ROLES, example: 'user' })
  role: TeamMemberRole;
}

export class CreateTeamDto extends UsageLimitsInputDto {
  @ApiPropertyOptional({ example: 'dbe2f686-a686-4896-864a-4c3924458709', description: 'Generated (uuid) when omitted' })
  @IsOptional()
  @IsResourceId('team_id')
  team_id?: string;

  @ApiPropertyOptional({ example: 'ishaans-secret-project' })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  team_alias?: string;

  @ApiPropertyOptional({ example: { owner: 'data-platform' }, description: 'Free JSON object' })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({ example: ['gpt-4', 'fake-openai-endpoint'], description: 'Models the team may use; empty = all' })
  @IsOptionalModelList()
  models?: string[];

  @ApiPropertyOptional({ example: false, description: 'A blocked team’s keys are refused' })
  @IsOptional()
  @IsBoolean()
  blocked?: boolean;

  @ApiPropertyOptional({ type: MemberDto, isArray: true, description: 'Members with their role; users that do not exist yet are created' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  members_with_roles?: unknown[] | null;
}

export class UpdateTeamDto extends UsageLimitsInputDto {
  @ApiProperty({ example: 'dbe2f686-a686-4896-864a-4c3924458709' })
  @IsResourceId('team_id')
  team_id: string;

  @ApiPropertyOptional({ example: 'renamed-project' })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  team_alias?: string;

  @ApiPropertyOptional({
    example: { owner: 'data-platform' },
    description: 'Replaces the metadata; a stored `logging` list is kept unless this object names `logging`',
  })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({ example: ['gpt-4'] })
  @IsOptionalModelList()
  models?: string[];

  @ApiPropertyOptional({ example: false })
  @IsOptional()
  @IsBoolean()
  blocked?: boolean;
}

export class DeleteTeamsDto {
  @ApiProperty({ example: ['dbe2f686-a686-4896-864a-4c3924458709'] })
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  team_ids: string[];
}

/** `/team/block`, `/team/unblock`. */
export class BlockTeamDto {
  @ApiProperty({ example: 'dbe2f686-a686-4896-864a-4c3924458709' })
  @IsResourceId('team_id')
  team_id: string;
}

export class TeamMemberAddDto {
  @ApiProperty({ example: 'dbe2f686-a686-4896-864a-4c3924458709' })
  @IsResourceId('team_id')
  team_id: string;

  @ApiProperty({ oneOf: [{ $ref: '#/components/schemas/MemberDto' }, { type: 'array', items: { $ref: '#/components/schemas/MemberDto' } }] })
  @IsDefined({ message: 'member is required' })
  member: unknown;

  @ApiPropertyOptional({ example: 10, nullable: true, type: Number, description: 'Each added member’s budget within the team (USD)' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0, { message: 'max_budget_in_team cannot be negative' })
  max_budget_in_team?: number | null;
}

/** One member of one team, by `user_id` or `user_email`. */
export class TeamMemberRefDto {
  @ApiProperty({ example: 'dbe2f686-a686-4896-864a-4c3924458709' })
  @IsResourceId('team_id')
  team_id: string;

  @ApiPropertyOptional({ example: 'ana@example.com', description: 'user_id or user_email (at least one)' })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  user_id?: string | null;

  @ApiPropertyOptional({ example: 'ana@example.com' })
  @IsOptional()
  @IsString()
  @Length(1, 320)
  user_email?: string | null;
}

export class TeamMemberUpdateDto extends TeamMemberRefDto {
  @ApiPropertyOptional({ example: 1, nullable: true, type: Number })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0, { message: 'max_budget_in_team cannot be negative' })
  max_budget_in_team?: number | null;

  @ApiPropertyOptional({ enum: TEAM_MEMBER_ROLES, example: 'user' })
  @IsOptional()
  @IsIn(TEAM_MEMBER_ROLES)
  role?: TeamMemberRole | null;

  @ApiPropertyOptional({ nullable: true, type: Number })
  @IsOptional()
  @IsInt()
  @Min(0)
  tpm_limit?: number | null;

  @ApiPropertyOptional({ nullable: true, type: Number })
  @IsOptional()
  @IsInt()
  @Min(0)
  rpm_limit?: number | null;
}

export class TeamMemberDeleteDto extends TeamMemberRefDto {}

/** A member as LiteLLM's `members_with_roles` shows it. */
export class MemberViewDto {
  @ApiProperty() user_id: string;
  @ApiProperty({ nullable: true, type: String }) user_email: string | null;
  @ApiProperty({ enum: TEAM_MEMBER_ROLES }) role: TeamMemberRole;
}

/** LiteLLM's `LiteLLM_TeamMembership`: the member's spend and budget within the team. */
export class TeamMembershipDto {
  @ApiProperty() user_id: string;
  @ApiProperty() team_id: string;
  @ApiProperty({ nullable: true, type: String }) budget_id: string | null;
  @ApiProperty() spend: number;
  @ApiProperty({ nullable: true, type: Number }) max_budget_in_team: number | null;
  @ApiProperty({ nullable: true, type: Number }) tpm_limit: number | null;
  @ApiProperty({ nullable: true, type: Number }) rpm_limit: number | null;
  @ApiProperty({ nullable: true, example: { max_budget: 10 }, description: 'LiteLLM’s shape of the member’s budget' })
  litellm_budget_table: { max_budget: number | null; tpm_limit: number | null; rpm_limit: number | null } | null;
}

export class TeamResponseDto extends UsageLimitsResponseDto {
  @ApiProperty({ example: 'dbe2f686-a686-4896-864a-4c3924458709' }) team_id: string;
  @ApiProperty({ example: 'ishaans-secret-project', nullable: true, type: String }) team_alias: string | null;
  @ApiProperty({ example: {} }) metadata: Record<string, unknown>;
  @ApiProperty({ example: [] }) models: string[];
  @ApiProperty({ example: false }) blocked: boolean;
  @ApiProperty({ example: false, description: 'Set by POST /team/{team_id}/disable_logging' }) logging_disabled: boolean;
  @ApiProperty({ example: 'api', enum: ['api', 'config'] }) source: string;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
  @ApiPropertyOptional({ type: MemberViewDto, isArray: true }) members_with_roles?: MemberViewDto[];
}

export class TeamWriteResponseDto extends TeamResponseDto {
  @ApiPropertyOptional({ example: ['tags is stored but not enforced by Gatehouse'], type: String, isArray: true })
  warnings?: string[];
}

/** `/team/info`: LiteLLM's `TeamInfoResponseObject`. */
export class TeamInfoResponseDto {
  @ApiProperty() team_id: string;
  @ApiProperty({ type: TeamResponseDto }) team_info: TeamResponseDto;
  @ApiProperty({ description: 'The team’s keys; `token` only for callers who manage the team', isArray: true, type: Object })
  keys: Record<string, unknown>[];
  @ApiProperty({ type: TeamMembershipDto, isArray: true }) team_memberships: TeamMembershipDto[];
}

/** `/team/member_add`: the team, plus the users and memberships the call created or changed. */
export class TeamMemberAddResponseDto extends TeamResponseDto {
  @ApiProperty({ isArray: true, type: Object }) updated_users: Record<string, unknown>[];
  @ApiProperty({ type: TeamMembershipDto, isArray: true }) updated_team_memberships: TeamMembershipDto[];
}

export class TeamMemberUpdateResponseDto {
  @ApiProperty() team_id: string;
  @ApiProperty() user_id: string;
  @ApiProperty({ nullable: true, type: String }) user_email: string | null;
  @ApiProperty({ nullable: true, type: Number }) max_budget_in_team: number | null;
  @ApiProperty({ nullable: true, type: Number }) tpm_limit: number | null;
  @ApiProperty({ nullable: true, type: Number }) rpm_limit: number | null;
  @ApiProperty({ enum: TEAM_MEMBER_ROLES }) role: TeamMemberRole;
}

declareStoredFields(CreateTeamDto, TEAM_NEW_STORED);
declareStoredFields(UpdateTeamDto, TEAM_UPDATE_STORED);
