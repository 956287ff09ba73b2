import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiJsonBody } from '../common/api-body-example';
import { AppException } from '../errors';
import { ChangedBy, DocumentsChangedBy } from '../audit/changed-by.decorator';
import { Access, CurrentPrincipal } from '../keys/auth.decorators';
import type { Principal } from '../keys/principal';
import { CreateTeamDto, DeleteTeamsDto, TeamResponseDto, UpdateTeamDto } from './dto/team.dto';
import { TeamsService } from './teams.service';

@ApiTags('teams')
@Controller('team')
export class TeamsController {
  constructor(private readonly teams: TeamsService) {}

  @Post('new')
  @DocumentsChangedBy()
  @HttpCode(200)
  @Access('admin')
  @ApiOperation({ summary: 'Create a team' })
  @ApiJsonBody(CreateTeamDto, { team_alias: 'my-new-team', models: ['gpt-4'] }, 'A team with a generated team_id')
  @ApiOkResponse({ type: TeamResponseDto })
  create(
    @Body() dto: CreateTeamDto,
    @CurrentPrincipal() caller: Principal,
    @ChangedBy() changedBy?: string,
  ): Promise<TeamResponseDto> {
    return this.teams.create(dto, { caller, changedBy });
  }

  @Post('update')
  @DocumentsChangedBy()
  @HttpCode(200)
  @Access('team_admin')
  @ApiOperation({ summary: 'Update a team (team admins: alias and metadata of their own team)' })
  @ApiJsonBody(UpdateTeamDto, { team_id: 'dbe2f686-a686-4896-864a-4c3924458709', team_alias: 'renamed-project' }, 'Rename a team')
  update(
    @Body() dto: UpdateTeamDto,
    @CurrentPrincipal() caller: Principal,
    @ChangedBy() changedBy?: string,
  ): Promise<{ team_id: string; data: TeamResponseDto }> {
    return this.teams.update(dto, { caller, changedBy });
  }

  @Get('info')
  @Access('team_admin')
  @ApiOperation({ summary: 'One team' })
  @ApiQuery({ name: 'team_id', example: 'ishaans-secret-project' })
  @ApiOkResponse({ type: TeamResponseDto })
  async info(@Query('team_id') teamId: string | undefined, @CurrentPrincipal() caller: Principal): Promise<{ team_id: string; team_info: TeamResponseDto }> {
    const info = await this.teams.info(requireQuery(teamId), caller);
    return { team_id: info.team_id, team_info: info };
  }

  @Get('list')
  @Access('team_admin')
  @ApiOperation({ summary: 'All teams (a team admin sees its own)' })
  @ApiOkResponse({ type: TeamResponseDto, isArray: true })
  list(@CurrentPrincipal() caller: Principal): Promise<TeamResponseDto[]> {
    return this.teams.list(caller);
  }

  @Post('delete')
  @HttpCode(200)
  @Access('admin')
  @ApiOperation({ summary: 'Delete teams and their keys' })
  // Not a team any example creates: a careless "Execute" deletes nothing.
  @ApiJsonBody(DeleteTeamsDto, { team_ids: ['team-to-delete'] }, 'Teams by id')
  delete(@Body() dto: DeleteTeamsDto): Promise<{ deleted_teams: string[] }> {
    return this.teams.delete(dto.team_ids);
  }
}

function requireQuery(teamId: string | undefined): string {
  if (typeof teamId !== 'string' || teamId.length === 0) {
    throw new AppException('validation_failed', 'team_id is required', { param: 'team_id' });
  }
  return teamId;
}
