import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsObject, IsOptional, IsString, Length } from 'class-validator';
import { IsOptionalDuration, IsOptionalModelList, IsResourceId } from '../../common/dto-fields';
import { declareStoredFields, USER_NEW_STORED, USER_UPDATE_STORED } from '../../management/stored-fields';
import { SpendInputDto, UsageLimitsResponseDto } from '../../management/usage-limits.dto';
import { USER_ROLES, type UserRole } from '../user.entity';

class UserFieldsDto extends SpendInputDto {
  @ApiPropertyOptional({ example: 'ana@example.com', description: 'Generated (uuid) when omitted' })
  @IsOptional()
  @IsResourceId('user_id')
  user_id?: string | null;

  @ApiPropertyOptional({ example: 'ana@example.com' })
  @IsOptional()
  @IsString()
  @Length(3, 320)
  user_email?: string | null;

  @ApiPropertyOptional({ example: 'Ana' })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  user_alias?: string | null;

  @ApiPropertyOptional({ enum: USER_ROLES, example: 'internal_user', description: 'proxy_admin: the user’s keys act as the proxy admin' })
  @IsOptional()
  @IsIn(USER_ROLES)
  user_role?: UserRole | null;

  @ApiPropertyOptional({ example: { department: 'finance' }, description: 'Free JSON object (no `logging`: that is for keys and teams)' })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown> | null;

  @ApiPropertyOptional({ example: ['gpt-4'], description: 'Models the user’s personal keys may use; empty = all' })
  @IsOptionalModelList()
  models?: string[] | null;

  @ApiPropertyOptional({ nullable: true, type: String, description: 'Not stored: Gatehouse has no user login (named in `warnings`)' })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  password?: string | null;
}

export class NewUserDto extends UserFieldsDto {
  @ApiPropertyOptional({ example: 'dbe2f686-a686-4896-864a-4c3924458709', description: 'Adds the user to this team as a `user`; its key goes to the team' })
  @IsOptional()
  @IsResourceId('team_id')
  team_id?: string | null;

  @ApiPropertyOptional({
    example: ['dbe2f686-a686-4896-864a-4c3924458709'],
    description: 'Team ids, or `{team_id, max_budget_in_team?, user_role: "user"|"admin"}` objects',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  teams?: unknown[] | null;

  @ApiPropertyOptional({ example: true, description: 'Create a key for the user (default true)' })
  @IsOptional()
  @IsBoolean()
  auto_create_key?: boolean | null;

  @ApiPropertyOptional({ example: 'ana-laptop', description: 'Alias of the key created for the user' })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  key_alias?: string | null;

  @ApiPropertyOptional({ example: '30d', nullable: true, type: String, description: 'Lifetime of the key created for the user' })
  @IsOptionalDuration()
  duration?: string | null;

  @ApiPropertyOptional({ example: false, description: 'Creates the user’s key blocked' })
  @IsOptional()
  @IsBoolean()
  blocked?: boolean | null;
}

export class UpdateUserDto extends UserFieldsDto {}

export class DeleteUsersDto {
  @ApiProperty({ example: ['user-to-delete'] })
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  user_ids: string[];
}

export class UserResponseDto extends UsageLimitsResponseDto {
  @ApiProperty({ example: 'ana@example.com' }) user_id: string;
  @ApiProperty({ nullable: true, type: String }) user_email: string | null;
  @ApiProperty({ nullable: true, type: String }) user_alias: string | null;
  @ApiProperty({ nullable: true, enum: USER_ROLES }) user_role: UserRole | null;
  @ApiProperty({ example: {} }) metadata: Record<string, unknown>;
  @ApiProperty({ example: [] }) models: string[];
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
  @ApiPropertyOptional({ example: ['password is not stored: Gatehouse has no user login'], type: String, isArray: true }) warnings?: string[];
}

export class NewUserResponseDto extends UserResponseDto {
  @ApiProperty({ example: 'sk-KbUuE0WNptC0jXapyMmLBA', description: 'The new user’s key, shown once; "" with auto_create_key=false' }) key: string;
  @ApiProperty({ nullable: true, type: String }) key_alias: string | null;
  @ApiProperty({ nullable: true, type: String }) key_name: string | null;
  @ApiProperty({ nullable: true, type: String }) expires: string | null;
  @ApiProperty({ nullable: true, type: String }) team_id: string | null;
  @ApiProperty({ example: [], type: String, isArray: true }) teams: string[];
}

export class UserInfoResponseDto {
  @ApiProperty({ nullable: true, type: String }) user_id: string | null;
  @ApiProperty({ nullable: true, type: UserResponseDto, description: 'The user, with `teams`: the ids of its teams' }) user_info: (UserResponseDto & { teams: string[] }) | null;
  @ApiProperty({ isArray: true, type: Object, description: 'The user’s keys, each with its team_alias' }) keys: Record<string, unknown>[];
  @ApiProperty({ isArray: true, type: Object, description: 'The user’s teams, each with the user’s team_memberships' }) teams: Record<string, unknown>[];
}

export class UserListResponseDto {
  @ApiProperty({ isArray: true, type: UserResponseDto }) users: (UserResponseDto & { key_count: number })[];
  @ApiProperty() total: number;
  @ApiProperty() page: number;
  @ApiProperty() page_size: number;
  @ApiProperty() total_pages: number;
}

declareStoredFields(NewUserDto, USER_NEW_STORED);
declareStoredFields(UpdateUserDto, USER_UPDATE_STORED);
