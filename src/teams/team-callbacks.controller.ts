import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiJsonBody } from '../common/api-body-example';
import { ChangedBy, DocumentsChangedBy } from '../audit/changed-by.decorator';
import { Access, CurrentPrincipal } from '../keys/auth.decorators';
import type { Principal } from '../keys/principal';
import { AddTeamCallbackDto, TeamCallbacksResponseDto } from './dto/team-callback.dto';
import { TeamCallbacksService } from './team-callbacks.service';

const TEAM_ID = { name: 'team_id', example: 'dbe2f686-a686-4896-864a-4c3924458709' };

@ApiTags('team logging')
@Controller('team/:team_id')
export class TeamCallbacksController {
  constructor(private readonly callbacks: TeamCallbacksService) {}

  @Post('callback')
  @HttpCode(200)
  @Access('team_admin')
  @ApiOperation({ summary: 'Add a logging destination to a team (proxy admin, or the team’s admin)' })
  @ApiParam(TEAM_ID)
  @DocumentsChangedBy()
  @ApiJsonBody(
    AddTeamCallbackDto,
    {
      callback_name: 'langfuse',
      callback_type: 'success',
      callback_vars: { langfuse_public_key: 'pk', langfuse_secret_key: 'sk_', langfuse_host: 'https://cloud.langfuse.com' },
    },
    'The seed’s Langfuse callback',
  )
  add(
    @Param('team_id') teamId: string,
    @Body() body: unknown,
    @CurrentPrincipal() caller: Principal,
    @ChangedBy() changedBy?: string,
  ): ReturnType<TeamCallbacksService['add']> {
    return this.callbacks.add(teamId, body, { caller, changedBy });
  }

  @Get('callback')
  @Access('team_admin')
  @ApiOperation({ summary: 'The callbacks a team’s requests use (config teams included), secrets masked' })
  @ApiParam(TEAM_ID)
  @ApiOkResponse({ type: TeamCallbacksResponseDto })
  get(@Param('team_id') teamId: string, @CurrentPrincipal() caller: Principal): ReturnType<TeamCallbacksService['get']> {
    return this.callbacks.get(teamId, caller);
  }

  @Delete('callback/:callback_name')
  @Access('team_admin')
  @ApiOperation({ summary: 'Remove every entry of one callback from a team' })
  @ApiParam(TEAM_ID)
  @ApiParam({ name: 'callback_name', example: 'langfuse' })
  @DocumentsChangedBy()
  remove(
    @Param('team_id') teamId: string,
    @Param('callback_name') callbackName: string,
    @CurrentPrincipal() caller: Principal,
    @ChangedBy() changedBy?: string,
  ): ReturnType<TeamCallbacksService['remove']> {
    return this.callbacks.remove(teamId, callbackName, { caller, changedBy });
  }

  @Post('disable_logging')
  @HttpCode(200)
  @Access('admin')
  @ApiOperation({ summary: 'Turn a team’s logging off everywhere (GDPR); adding a callback turns it back on' })
  @ApiParam(TEAM_ID)
  @DocumentsChangedBy()
  disable(
    @Param('team_id') teamId: string,
    @CurrentPrincipal() caller: Principal,
    @ChangedBy() changedBy?: string,
  ): ReturnType<TeamCallbacksService['disable']> {
    return this.callbacks.disable(teamId, { caller, changedBy });
  }
}
