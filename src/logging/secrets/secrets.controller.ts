import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';
import { ChangedBy, DocumentsChangedBy } from '../../audit/changed-by.decorator';
import { ApiJsonBody } from '../../common/api-body-example';
import { Access, CurrentPrincipal } from '../../keys/auth.decorators';
import type { Principal } from '../../keys/principal';
import { SecretReencryptionService } from './secret-reencryption.service';

export class ReencryptSecretsDto {
  @ApiPropertyOptional({ example: false, description: 'Count what would be re-encrypted, change nothing' })
  @IsOptional()
  @IsBoolean()
  dry_run?: boolean;
}

class SecretLocationDto {
  @ApiProperty({ enum: ['teams', 'virtual_keys', 'log_outbox'], example: 'teams' }) table: string;
  @ApiProperty({ description: 'Team id, key token, or outbox row id', example: 'ishaans-secret-project' }) row_id: string;
  @ApiProperty({ example: '3f0c6a52-8d0e-4b55-9c2b-6f1f0e0f6f55' }) entry_id: string;
  @ApiProperty({ example: 'langfuse_secret_key' }) field: string;
}

class ReencryptSecretsResponseDto {
  @ApiProperty({ example: 12, description: 'Secrets encrypted again with the current SALT_KEY' }) reencrypted: number;
  @ApiProperty({ example: 3, description: 'Secrets already encrypted with the current key, left as they were' }) already_current: number;
  @ApiProperty({ example: 0, description: 'Secrets no configured key decrypts (listed in unreadable, at most 100)' }) failed: number;
  @ApiProperty({ type: [SecretLocationDto] }) unreadable: SecretLocationDto[];
  @ApiProperty({ example: false }) dry_run: boolean;
}

@ApiTags('secrets')
@Controller('secrets')
export class SecretsController {
  constructor(private readonly reencryption: SecretReencryptionService) {}

  @Post('reencrypt')
  @HttpCode(200)
  @Access('admin')
  @ApiOperation({
    summary: 'Re-encrypt every stored logging secret with the current SALT_KEY (after a rotation; proxy admin only)',
    description:
      'Start the gateway with the new SALT_KEY and the old key in SALT_KEY_PREVIOUS, call this, and remove SALT_KEY_PREVIOUS once ' +
      'it reports failed: 0 (call it again right before: events logged meanwhile may still carry copies under the old key). ' +
      'Recorded in the audit log.',
  })
  @DocumentsChangedBy()
  @ApiJsonBody(ReencryptSecretsDto, { dry_run: true }, 'Count first, change nothing')
  @ApiOkResponse({ type: ReencryptSecretsResponseDto })
  reencrypt(
    @Body() dto: ReencryptSecretsDto,
    @CurrentPrincipal() caller: Principal,
    @ChangedBy() changedBy?: string,
  ): ReturnType<SecretReencryptionService['reencrypt']> {
    return this.reencryption.reencrypt({ dryRun: dto.dry_run ?? false }, { caller, changedBy });
  }
}
