import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ChangedBy, DocumentsChangedBy } from '../audit/changed-by.decorator';
import { ApiJsonBody } from '../common/api-body-example';
import { AppException } from '../errors';
import { Access, CurrentPrincipal } from '../keys/auth.decorators';
import type { Principal } from '../keys/principal';
import { DeleteUsersDto, NewUserDto, NewUserResponseDto, UpdateUserDto, UserInfoResponseDto, UserListResponseDto, UserResponseDto } from './dto/user.dto';
import { USER_SORT_FIELDS, UsersService, type UserSortField } from './users.service';

@ApiTags('users')
@Controller('user')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post('new')
  @HttpCode(200)
  @DocumentsChangedBy()
  @Access('admin')
  @ApiOperation({ summary: 'Create a user (and, unless auto_create_key is false, a key for it)' })
  @ApiJsonBody(NewUserDto, { user_email: 'ana@example.com', user_alias: 'Ana', max_budget: 10 }, 'A user with a budget')
  @ApiOkResponse({ type: NewUserResponseDto })
  create(@Body() dto: NewUserDto, @CurrentPrincipal() caller: Principal, @ChangedBy() changedBy?: string): Promise<NewUserResponseDto> {
    return this.users.create(dto, { caller, changedBy });
  }

  @Get('info')
  @Access('any_key')
  @ApiOperation({ summary: 'A user, its keys and teams (the proxy admin: anyone; a key: its own user)' })
  @ApiQuery({ name: 'user_id', required: false })
  @ApiOkResponse({ type: UserInfoResponseDto })
  info(@Query('user_id') userId: string | undefined, @CurrentPrincipal() caller: Principal): Promise<UserInfoResponseDto> {
    return this.users.info(caller, userId);
  }

  @Post('update')
  @HttpCode(200)
  @DocumentsChangedBy()
  @Access('any_key')
  @ApiOperation({ summary: 'Update a user (a key may change its own user’s alias, email and metadata; the rest is the proxy admin’s)' })
  @ApiJsonBody(UpdateUserDto, { user_id: 'ana@example.com', user_alias: 'Ana B.' }, 'Rename a user')
  @ApiOkResponse({ type: UserResponseDto })
  update(@Body() dto: UpdateUserDto, @CurrentPrincipal() caller: Principal, @ChangedBy() changedBy?: string): ReturnType<UsersService['update']> {
    return this.users.update(dto, { caller, changedBy });
  }

  @Get('list')
  @Access('admin')
  @ApiOperation({ summary: 'Users with their key counts, filtered and paged (newest first unless sort_by)' })
  @ApiQuery({ name: 'role', required: false })
  @ApiQuery({ name: 'user_ids', required: false, description: 'Comma-separated; a single id matches as a case-insensitive part' })
  @ApiQuery({ name: 'user_email', required: false, description: 'Case-insensitive part of the email' })
  @ApiQuery({ name: 'team', required: false, description: 'Members of this team' })
  @ApiQuery({ name: 'page', required: false, example: 1 })
  @ApiQuery({ name: 'page_size', required: false, example: 25 })
  @ApiQuery({ name: 'sort_by', required: false, enum: USER_SORT_FIELDS })
  @ApiQuery({ name: 'sort_order', required: false, enum: ['asc', 'desc'] })
  @ApiOkResponse({ type: UserListResponseDto })
  list(@Query() query: Record<string, string | undefined>): Promise<UserListResponseDto> {
    const sortBy = query.sort_by;
    if (sortBy !== undefined && !(USER_SORT_FIELDS as readonly string[]).includes(sortBy)) {
      throw new AppException('validation_failed', `sort_by must be one of ${USER_SORT_FIELDS.join(', ')}`, { param: 'sort_by' });
    }
    const sortOrder = (query.sort_order ?? 'asc').toLowerCase();
    if (sortOrder !== 'asc' && sortOrder !== 'desc') throw new AppException('validation_failed', 'sort_order must be asc or desc', { param: 'sort_order' });
    return this.users.list({
      role: query.role,
      user_ids: query.user_ids,
      user_email: query.user_email,
      team: query.team,
      page: boundedInt(query.page, 1, 'page', 1, 1_000_000),
      page_size: boundedInt(query.page_size, 25, 'page_size', 1, 100),
      sort_by: sortBy as UserSortField | undefined,
      sort_order: sortOrder,
    });
  }

  @Post('delete')
  @HttpCode(200)
  @DocumentsChangedBy()
  @Access('admin')
  @ApiOperation({ summary: 'Delete users with their keys and team memberships' })
  @ApiJsonBody(DeleteUsersDto, { user_ids: ['user-to-delete'] }, 'Users by id')
  delete(@Body() dto: DeleteUsersDto, @CurrentPrincipal() caller: Principal, @ChangedBy() changedBy?: string): Promise<{ deleted_users: string[] }> {
    return this.users.delete(dto.user_ids, { caller, changedBy });
  }
}

function boundedInt(value: string | undefined, fallback: number, param: string, min: number, max: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new AppException('validation_failed', `${param} must be an integer between ${min} and ${max}`, { param });
  }
  return parsed;
}
