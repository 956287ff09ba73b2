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
import { declareStoredFields, KEY_GENERATE_STORED, KEY_REGENERATE_STORED, KEY_UPDATE_STORED } from '../../management/stored-fields';
import { SpendInputDto, UsageLimitsResponseDto } from '../../management/usage-limits.dto';
import { KEY_ROLES, type KeyRole } from '../principal';

/** A user id as LiteLLM takes it (`user_id` of a key, a member, a user). */
const IsUserId = () => IsResourceId('user_id');

export class GenerateKeyDto extends SpendInputDto {
  @ApiPropertyOptional({ example: 'ishaans-secret-project' })
  @IsOptional()
  @IsResourceId('team_id')
  team_id?: string;

  @ApiPropertyOptional({ example: 'ana@example.com', description: 'The user who owns the key; created when it does not exist yet' })
  @IsOptional()
  @IsUserId()
  user_id?: string;

  @ApiPropertyOptional({ example: null, nullable: true, type: String, description: 'Your own key instead of a generated one (must start with `sk-`)' })
  @IsOptional()
  @IsString()
  @Length(11, 512, { message: 'key must be 11 to 512 characters' })
  key?: string;

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

export class UpdateKeyDto extends SpendInputDto {
  @ApiProperty({ example: 'sk-KbUuE0WNptC0jXapyMmLBA', description: 'The key, or its token (SHA-256 hex)' })
  @IsString()
  @Length(1, 512)
  key: string;

  @ApiPropertyOptional({ example: 'ishaans-secret-project', description: 'Moves the key to another team (you must manage both)' })
  @IsOptional()
  @IsResourceId('team_id')
  team_id?: string;

  @ApiPropertyOptional({ example: 'ana@example.com' })
  @IsOptional()
  @IsUserId()
  user_id?: string;

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
  @ApiPropertyOptional({ example: ['sk-KbUuE0WNptC0jXapyMmLBA'], description: 'Keys or their tokens' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  keys?: string[] | null;

  @ApiPropertyOptional({ example: ['billing-service'], description: 'Keys by alias' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  key_aliases?: string[] | null;
}

/** `/key/block`, `/key/unblock`. */
export class BlockKeyDto {
  @ApiProperty({ example: 'sk-KbUuE0WNptC0jXapyMmLBA', description: 'The key, or its token (SHA-256 hex)' })
  @IsString()
  @Length(1, 512)
  key: string;
}

/** `/key/regenerate` and `/key/{key}/regenerate`: a new secret, the same settings; fields given here change too. */
export class RegenerateKeyDto extends SpendInputDto {
  @ApiPropertyOptional({ example: 'sk-KbUuE0WNptC0jXapyMmLBA', description: 'The key, or its token; wins over the path' })
  @IsOptional()
  @IsString()
  @Length(1, 512)
  key?: string;

  @ApiPropertyOptional({ nullable: true, type: String, description: 'The new key itself (must start with `sk-`); generated when omitted' })
  @IsOptional()
  @IsString()
  @Length(11, 512, { message: 'new_key must be 11 to 512 characters' })
  new_key?: string;

  @ApiPropertyOptional({ example: 'billing-service' })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  key_alias?: string;

  @ApiPropertyOptional({ description: 'Replaces the metadata; a stored `logging` list is kept unless this object names `logging`' })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({ example: ['gpt-4'] })
  @IsOptionalModelList()
  models?: string[];

  @ApiPropertyOptional({ example: '30d', nullable: true, type: String, description: 'New lifetime from now' })
  @IsOptionalDuration()
  duration?: string | null;

  @ApiPropertyOptional({ example: false })
  @IsOptional()
  @IsBoolean()
  blocked?: boolean;

  @ApiPropertyOptional({ example: 'ishaans-secret-project', description: 'Accepted as LiteLLM sends it; must be the key’s team' })
  @IsOptional()
  @IsResourceId('team_id')
  team_id?: string;

  @ApiPropertyOptional({ description: 'Accepted as LiteLLM sends it; must be the key’s user' })
  @IsOptional()
  @IsUserId()
  user_id?: string;
}

export class KeyResponseDto extends UsageLimitsResponseDto {
  @ApiProperty({ example: 'c2f4…', description: 'SHA-256 of the key: its identifier, never a credential' }) token: string;
  @ApiProperty({ example: 'sk-...LBA' }) key_name: string;
  @ApiProperty({ nullable: true, type: String }) key_alias: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'ishaans-secret-project' }) team_id: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'ana@example.com' }) user_id: string | null;
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

/** Answers to writes name the LiteLLM fields that were stored but are not acted on. */
export class KeyWriteResponseDto extends KeyResponseDto {
  @ApiPropertyOptional({ example: ['tags is stored but not enforced by Gatehouse'], type: String, isArray: true })
  warnings?: string[];
}

export class GeneratedKeyResponseDto extends KeyWriteResponseDto {
  @ApiProperty({ example: 'sk-KbUuE0WNptC0jXapyMmLBA', description: 'Shown once: only its hash is stored' })
  key: string;

  @ApiProperty({ example: 'c2f4…', description: 'LiteLLM’s name for the token (the key’s SHA-256)' })
  token_id: string;
}

/** `/key/block` and `/key/unblock` answer the key's row (its token, never the key). */
export class BlockedKeyResponseDto extends KeyResponseDto {}

declareStoredFields(GenerateKeyDto, KEY_GENERATE_STORED);
declareStoredFields(UpdateKeyDto, KEY_UPDATE_STORED);
declareStoredFields(RegenerateKeyDto, KEY_REGENERATE_STORED);
