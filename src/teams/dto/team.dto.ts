import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsObject, IsOptional, IsString, Length } from 'class-validator';
import { IsOptionalModelList, IsResourceId } from '../../common/dto-fields';

export class CreateTeamDto {
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
}

export class UpdateTeamDto {
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

export class TeamResponseDto {
  @ApiProperty({ example: 'dbe2f686-a686-4896-864a-4c3924458709' }) team_id: string;
  @ApiProperty({ example: 'ishaans-secret-project', nullable: true, type: String }) team_alias: string | null;
  @ApiProperty({ example: {} }) metadata: Record<string, unknown>;
  @ApiProperty({ example: [] }) models: string[];
  @ApiProperty({ example: false }) blocked: boolean;
  @ApiProperty({ example: false, description: 'Set by POST /team/{team_id}/disable_logging' }) logging_disabled: boolean;
  @ApiProperty({ example: 'api', enum: ['api', 'config'] }) source: string;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}
