import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiJsonBody } from '../common/api-body-example';
import { AppException } from '../errors';
import { KeyHealthService, type KeyHealthResponse } from '../logging/key-health.service';
import { ChangedBy, DocumentsChangedBy } from '../audit/changed-by.decorator';
import { Access, CurrentPrincipal } from './auth.decorators';
import { DeleteKeysDto, GeneratedKeyResponseDto, GenerateKeyDto, KeyInfoDto, KeyResponseDto, UpdateKeyDto } from './dto/key.dto';
import { KeyListResponse, KeysService } from './keys.service';
import type { Principal } from './principal';

@ApiTags('keys')
@Controller('key')
export class KeysController {
  constructor(
    private readonly keys: KeysService,
    private readonly keyHealth: KeyHealthService,
  ) {}

  @Post('generate')
  @DocumentsChangedBy()
  @HttpCode(200)
  @Access('team_admin')
  @ApiOperation({ summary: 'Create a virtual key; the key is shown once in `key`' })
  @ApiJsonBody(GenerateKeyDto, { team_id: 'ishaans-secret-project' }, 'A key for a team (the seed)')
  @ApiOkResponse({ type: GeneratedKeyResponseDto })
  generate(
    @Body() dto: GenerateKeyDto,
    @CurrentPrincipal() caller: Principal,
    @ChangedBy() changedBy?: string,
  ): Promise<GeneratedKeyResponseDto> {
    return this.keys.generate(dto, { caller, changedBy });
  }

  @Post('update')
  @DocumentsChangedBy()
  @HttpCode(200)
  @Access('team_admin')
  @ApiOperation({ summary: 'Update a key (metadata.logging is kept unless named)' })
  @ApiJsonBody(UpdateKeyDto, { key: 'sk-KbUuE0WNptC0jXapyMmLBA', key_alias: 'billing-service' }, 'Rename a key')
  @ApiOkResponse({ type: KeyResponseDto })
  update(
    @Body() dto: UpdateKeyDto,
    @CurrentPrincipal() caller: Principal,
    @ChangedBy() changedBy?: string,
  ): Promise<KeyResponseDto> {
    return this.keys.update(dto, { caller, changedBy });
  }

  @Post('health')
  @HttpCode(200)
  @Access('any_key')
  @ApiOperation({ summary: 'Check the logging destinations of the calling key and its team (no data is written)' })
  @ApiOkResponse({
    schema: {
      example: {
        key: 'healthy',
        logging_callbacks: {
          callbacks: ['gcs_bucket'],
          status: 'healthy',
          details: 'No logger exceptions triggered, system is healthy. Checked gcs_bucket (key): credentials accepted, destinations reachable',
        },
      },
    },
  })
  health(@CurrentPrincipal() caller: Principal): Promise<KeyHealthResponse> {
    return this.keyHealth.check(caller);
  }

  @Get('info')
  @Access('any_key')
  @ApiOperation({ summary: 'The caller’s key, or `?key=` (a key or its token) for admins' })
  @ApiQuery({ name: 'key', required: false })
  info(@Query('key') key: string | undefined, @CurrentPrincipal() caller: Principal): Promise<{ key: string; info: KeyInfoDto }> {
    return this.keys.info(caller, key);
  }

  @Get('list')
  @Access('team_admin')
  @ApiOperation({ summary: 'Key tokens (or full objects with return_full_object=true); team admins see their team' })
  @ApiQuery({ name: 'team_id', required: false })
  @ApiQuery({ name: 'key_alias', required: false })
  @ApiQuery({ name: 'page', required: false, example: 1 })
  @ApiQuery({ name: 'size', required: false, example: 50 })
  @ApiQuery({ name: 'return_full_object', required: false, example: false })
  list(
    @CurrentPrincipal() caller: Principal,
    @Query('team_id') teamId?: string,
    @Query('key_alias') keyAlias?: string,
    @Query('page') page?: string,
    @Query('size') size?: string,
    @Query('return_full_object') fullObject?: string,
  ): Promise<KeyListResponse> {
    return this.keys.list(caller, {
      team_id: teamId,
      key_alias: keyAlias,
      page: positiveInt(page, 1, 'page', 1_000_000),
      size: positiveInt(size, 50, 'size', 1000),
      return_full_object: fullObject === 'true',
    });
  }

  @Post('delete')
  @HttpCode(200)
  @Access('team_admin')
  @ApiOperation({ summary: 'Delete keys (given as keys or tokens)' })
  @ApiJsonBody(DeleteKeysDto, { keys: ['sk-KbUuE0WNptC0jXapyMmLBA'] }, 'The seed’s example key')
  delete(@Body() dto: DeleteKeysDto, @CurrentPrincipal() caller: Principal): Promise<{ deleted_keys: string[] }> {
    return this.keys.delete(dto, caller);
  }
}

function positiveInt(value: string | undefined, fallback: number, param: string, max: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > max) {
    throw new AppException('validation_failed', `${param} must be an integer between 1 and ${max}`, { param });
  }
  return parsed;
}
