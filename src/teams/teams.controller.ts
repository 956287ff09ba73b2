import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiJsonBody } from '../common/api-body-example';
import { AppException } from '../errors';
import { ChangedBy, DocumentsChangedBy } from '../audit/changed-by.decorator';
import { Access, CurrentPrincipal } from '../keys/auth.decorators';
import type { Principal } from '../keys/principal';
import {
  BlockTeamDto,
  CreateTeamDto,
  DeleteTeamsDto,
  TeamInfoResponseDto,
  TeamMemberAddDto,
  TeamMemberAddResponseDto,
  TeamMemberDeleteDto,
  TeamMemberUpdateDto,
  TeamMemberUpdateResponseDto,
  TeamResponseDto,
  TeamWriteResponseDto,
  UpdateTeamDto,
} from './dto/team.dto';
import { TeamsService } from './teams.service';

const EXAMPLE_TEAM = 'dbe2f686-a686-4896-864a-4c3924458709';

@ApiTags('teams')
@Controller('team')
export class TeamsController {
  constructor(private readonly teams: TeamsService) {}

  @Post('new')
  @DocumentsChangedBy()
  @HttpCode(200)
  @Access('admin')
  @ApiOperation({ summary: 'Create a team (budgets, limits and members_with_roles included)' })
  @ApiJsonBody(CreateTeamDto, { team_alias: 'my-new-team', models: ['gpt-4'] }, 'A team with a generated team_id')
  @ApiOkResponse({ type: TeamWriteResponseDto })
  create(@Body() dto: CreateTeamDto, @CurrentPrincipal() caller: Principal, @ChangedBy() changedBy?: string): Promise<TeamWriteResponseDto> {
    return this.teams.create(dto, { caller, changedBy });
  }

  @Post('update')
  @DocumentsChangedBy()
  @HttpCode(200)
  @Access('team_admin')
  @ApiOperation({ summary: 'Update a team (team admins: alias, metadata and stored LiteLLM fields of their own team)' })
  @ApiJsonBody(UpdateTeamDto, { team_id: EXAMPLE_TEAM, team_alias: 'renamed-project' }, 'Rename a team')
  @ApiOkResponse({ schema: { example: { team_id: EXAMPLE_TEAM, data: { team_id: EXAMPLE_TEAM, team_alias: 'renamed-project' } } } })
  update(@Body() dto: UpdateTeamDto, @CurrentPrincipal() caller: Principal, @ChangedBy() changedBy?: string): Promise<{ team_id: string; data: TeamWriteResponseDto }> {
    return this.teams.update(dto, { caller, changedBy });
  }

  @Get('info')
  @Access('any_key')
  @ApiOperation({ summary: 'One team, its keys and memberships (the proxy admin, the team’s admins, its keys and its members)' })
  @ApiQuery({ name: 'team_id', example: 'ishaans-secret-project' })
  @ApiOkResponse({ type: TeamInfoResponseDto })
  info(@Query('team_id') teamId: string | undefined, @CurrentPrincipal() caller: Principal): Promise<TeamInfoResponseDto> {
    return this.teams.info(requireQuery(teamId), caller);
  }

  @Get('list')
  @Access('team_admin')
  @ApiOperation({ summary: 'Teams with their memberships and keys (a team admin sees the teams it manages)' })
  @ApiQuery({ name: 'user_id', required: false, description: 'Teams this user is a member of' })
  @ApiQuery({ name: 'organization_id', required: false, description: '`default_organization`: teams without one' })
  @ApiOkResponse({ type: TeamResponseDto, isArray: true })
  list(
    @CurrentPrincipal() caller: Principal,
    @Query('user_id') userId?: string,
    @Query('organization_id') organizationId?: string,
  ): ReturnType<TeamsService['list']> {
    return this.teams.list(caller, { user_id: userId, organization_id: organizationId });
  }

  @Post('delete')
  @HttpCode(200)
  @DocumentsChangedBy()
  @Access('admin')
  @ApiOperation({ summary: 'Delete teams, their keys and memberships' })
  // Not a team any example creates: a careless "Execute" deletes nothing.
  @ApiJsonBody(DeleteTeamsDto, { team_ids: ['team-to-delete'] }, 'Teams by id')
  delete(@Body() dto: DeleteTeamsDto, @CurrentPrincipal() caller: Principal, @ChangedBy() changedBy?: string): Promise<{ deleted_teams: string[] }> {
    return this.teams.delete(dto.team_ids, { caller, changedBy });
  }

  @Post('block')
  @HttpCode(200)
  @DocumentsChangedBy()
  @Access('admin')
  @ApiOperation({ summary: 'Block a team: its keys are refused (on every instance) until /team/unblock' })
  @ApiJsonBody(BlockTeamDto, { team_id: 'team-to-block' }, 'A team by id')
  @ApiOkResponse({ type: TeamResponseDto })
  block(@Body() dto: BlockTeamDto, @CurrentPrincipal() caller: Principal, @ChangedBy() changedBy?: string): Promise<TeamResponseDto> {
    return this.teams.setBlocked(dto.team_id, true, { caller, changedBy });
  }

  @Post('unblock')
  @HttpCode(200)
  @DocumentsChangedBy()
  @Access('admin')
  @ApiOperation({ summary: 'Unblock a team' })
  @ApiJsonBody(BlockTeamDto, { team_id: 'team-to-block' }, 'A team by id')
  @ApiOkResponse({ type: TeamResponseDto })
  unblock(@Body() dto: BlockTeamDto, @CurrentPrincipal() caller: Principal, @ChangedBy() changedBy?: string): Promise<TeamResponseDto> {
    return this.teams.setBlocked(dto.team_id, false, { caller, changedBy });
  }

  @Post('member_add')
  @HttpCode(200)
  @DocumentsChangedBy()
  @Access('team_admin')
  @ApiOperation({ summary: 'Add members (one or a list; users that do not exist yet are created)' })
  @ApiJsonBody(TeamMemberAddDto, { team_id: EXAMPLE_TEAM, member: { role: 'user', user_id: 'ana@example.com' } }, 'One member')
  @ApiOkResponse({ type: TeamMemberAddResponseDto })
  memberAdd(@Body() dto: TeamMemberAddDto, @CurrentPrincipal() caller: Principal, @ChangedBy() changedBy?: string): Promise<TeamMemberAddResponseDto> {
    return this.teams.memberAdd(dto, { caller, changedBy });
  }

  @Post('member_update')
  @HttpCode(200)
  @DocumentsChangedBy()
  @Access('team_admin')
  @ApiOperation({ summary: 'Change a member’s role, budget in the team, or limits' })
  @ApiJsonBody(TeamMemberUpdateDto, { team_id: EXAMPLE_TEAM, user_id: 'ana@example.com', max_budget_in_team: 10 }, 'A member’s budget')
  @ApiOkResponse({ type: TeamMemberUpdateResponseDto })
  memberUpdate(@Body() dto: TeamMemberUpdateDto, @CurrentPrincipal() caller: Principal, @ChangedBy() changedBy?: string): Promise<TeamMemberUpdateResponseDto> {
    return this.teams.memberUpdate(dto, { caller, changedBy });
  }

  @Post('member_delete')
  @HttpCode(200)
  @DocumentsChangedBy()
  @Access('team_admin')
  @ApiOperation({ summary: 'Remove a member from a team (the user and its keys stay)' })
  @ApiJsonBody(TeamMemberDeleteDto, { team_id: EXAMPLE_TEAM, user_id: 'ana@example.com' }, 'A member by id')
  @ApiOkResponse({ type: TeamResponseDto })
  memberDelete(@Body() dto: TeamMemberDeleteDto, @CurrentPrincipal() caller: Principal, @ChangedBy() changedBy?: string): Promise<TeamResponseDto> {
    return this.teams.memberDelete(dto, { caller, changedBy });
  }
}

function requireQuery(teamId: string | undefined): string {
  if (typeof teamId !== 'string' || teamId.length === 0) {
    throw new AppException('validation_failed', 'team_id is required', { param: 'team_id' });
  }
  return teamId;
}
