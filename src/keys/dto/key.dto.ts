import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { EffectivePrivacy } from '../../logging/privacy/privacy-resolver';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Length,
  ValidateIf,
} from 'class-validator';
import { IsOptionalDuration, IsOptionalModelList, IsResourceId } from '../../common/dto-fields';
import { KEY_ROLES, type KeyRole } from '../principal';


export class GenerateKeyDto {
  @ApiPropertyOptional({ example: 'ishaans-secret-project' })
  @IsOptional()
  @IsResourceId('team_id')
  team_id?: string;

  @ApiPropertyOptional({ example: 'billing-service' })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  key_alias?: string;

  @ApiPropertyOptional({
    example: {
      logging: [
        {
          callback_name: 'langfuse',
          callback_type: 'success',
          callback_vars: {
            langfuse_public_key: 'os.environ/LANGFUSE_PUBLIC_KEY',
            langfuse_secret_key: 'os.environ/LANGFUSE_SECRET_KEY',
            langfuse_host: 'https://cloud.langfuse.com',
          },
        },
      ],
    },
    description: 'Free JSON object; `logging` holds the key’s own logging destinations',
  })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({ example: ['fake-openai-endpoint'], description: 'Models the key may use; empty = all' })
  @IsOptionalModelList()
  models?: string[];

  @ApiPropertyOptional({ example: '30d', nullable: true, type: String, description: 'Lifetime; omitted or null = never expires' })
  @IsOptionalDuration()
  duration?: string | null;

  @ApiPropertyOptional({ enum: KEY_ROLES, description: 'Omit for a plain key (LLM routes, own info and health)' })
  @IsOptional()
  @IsIn(KEY_ROLES)
  role?: KeyRole;

  @ApiPropertyOptional({ example: false })
  @IsOptional()
  @IsBoolean()
  blocked?: boolean;
}

export class UpdateKeyDto {
  @ApiProperty({ example: 'sk-KbUuE0WNptC0jXapyMmLBA', description: 'The key, or its token (SHA-256 hex)' })
  @IsString()
  @Length(1, 512)
  key: string;

  @ApiPropertyOptional({ example: 'billing-service' })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  key_alias?: string;

  @ApiPropertyOptional({
    example: { owner: 'billing' },
    description: 'Replaces the metadata; a stored `logging` list is kept unless this object names `logging`',
  })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({ example: ['gpt-4'] })
  @IsOptionalModelList()
  models?: string[];

  @ApiPropertyOptional({ example: '30d', nullable: true, type: String, description: 'New lifetime from now; null = never expires' })
  @IsOptionalDuration()
  duration?: string | null;

  @ApiPropertyOptional({ enum: KEY_ROLES, nullable: true })
  @IsOptional()
  @ValidateIf((_dto, value) => value !== null)
  @IsIn(KEY_ROLES)
  role?: KeyRole | null;

  @ApiPropertyOptional({ example: false })
  @IsOptional()
  @IsBoolean()
  blocked?: boolean;
}

export class DeleteKeysDto {
  @ApiProperty({ example: ['sk-KbUuE0WNptC0jXapyMmLBA'], description: 'Keys or their tokens' })
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  keys: string[];
}

export class KeyResponseDto {
  @ApiProperty({ example: 'c2f4…', description: 'SHA-256 of the key: its identifier, never a credential' }) token: string;
  @ApiProperty({ example: 'sk-...LBA' }) key_name: string;
  @ApiProperty({ nullable: true, type: String }) key_alias: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'ishaans-secret-project' }) team_id: string | null;
  @ApiProperty({ nullable: true, enum: KEY_ROLES }) role: KeyRole | null;
  @ApiProperty({ example: {} }) metadata: Record<string, unknown>;
  @ApiProperty({ example: [] }) models: string[];
  @ApiProperty({ example: false }) blocked: boolean;
  @ApiProperty({ nullable: true, type: String, example: '2026-12-27T00:00:00.000Z' }) expires: string | null;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export class KeyInfoDto extends KeyResponseDto {
  @ApiProperty({
    description: 'The privacy switches in force for the key (global < team < key), each with the level it comes from',
    example: {
      turn_off_message_logging: { value: true, source: 'team' },
      redact_user_api_key_info: { value: false, source: 'default' },
      no_log_allowed: { value: true, source: 'default' },
      allow_client_message_redaction_opt_out: { value: false, source: 'default' },
      pii_masking: { value: { detectors: ['email', 'phone'], patterns: [] }, source: 'key' },
    },
  })
  privacy: EffectivePrivacy;
}

export class GeneratedKeyResponseDto extends KeyResponseDto {
  @ApiProperty({ example: 'sk-KbUuE0WNptC0jXapyMmLBA', description: 'Shown once: only its hash is stored' })
  key: string;
}
