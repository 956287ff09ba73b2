import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiJsonBody } from '../common/api-body-example';
import { AppException } from '../errors';
import { KeyHealthService, type KeyHealthResponse } from '../logging/key-health.service';
import { ChangedBy, DocumentsChangedBy } from '../audit/changed-by.decorator';
import { Access, CurrentPrincipal } from './auth.decorators';
import {
  BlockedKeyResponseDto,
  BlockKeyDto,
  DeleteKeysDto,
  GeneratedKeyResponseDto,
  GenerateKeyDto,
  KeyInfoDto,
  KeyWriteResponseDto,
  RegenerateKeyDto,
  UpdateKeyDto,
} from './dto/key.dto';
import { KEY_SORT_FIELDS, KeyListResponse, KeysService, type KeySortField } from './keys.service';
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
  @ApiOkResponse({ type: KeyWriteResponseDto })
  update(
    @Body() dto: UpdateKeyDto,
    @CurrentPrincipal() caller: Principal,
    @ChangedBy() changedBy?: string,
  ): Promise<KeyWriteResponseDto> {
    return this.keys.update(dto, { caller, changedBy });
  }

  @Post('block')
  @DocumentsChangedBy()
  @HttpCode(200)
  @Access('admin')
  @ApiOperation({ summary: 'Block a key: refused from its next request on, on every instance' })
  @ApiJsonBody(BlockKeyDto, { key: 'sk-KbUuE0WNptC0jXapyMmLBA' }, 'The seed’s example key')
  @ApiOkResponse({ type: BlockedKeyResponseDto })
  block(@Body() dto: BlockKeyDto, @CurrentPrincipal() caller: Principal, @ChangedBy() changedBy?: string): Promise<BlockedKeyResponseDto> {
    return this.keys.setBlocked(dto, true, { caller, changedBy });
  }

  @Post('unblock')
  @DocumentsChangedBy()
  @HttpCode(200)
  @Access('admin')
  @ApiOperation({ summary: 'Unblock a key' })
  @ApiJsonBody(BlockKeyDto, { key: 'sk-KbUuE0WNptC0jXapyMmLBA' }, 'The seed’s example key')
  @ApiOkResponse({ type: BlockedKeyResponseDto })
  unblock(@Body() dto: BlockKeyDto, @CurrentPrincipal() caller: Principal, @ChangedBy() changedBy?: string): Promise<BlockedKeyResponseDto> {
    return this.keys.setBlocked(dto, false, { caller, changedBy });
  }

  @Post('regenerate')
  @DocumentsChangedBy()
  @HttpCode(200)
  @Access('team_admin')
  @ApiOperation({ summary: 'A new secret for a key: same settings, logging, budgets and limits; the old secret stops at once' })
  @ApiJsonBody(RegenerateKeyDto, { key: 'sk-KbUuE0WNptC0jXapyMmLBA' }, 'The seed’s example key')
  @ApiOkResponse({ type: GeneratedKeyResponseDto })
  regenerate(@Body() dto: RegenerateKeyDto, @CurrentPrincipal() caller: Principal, @ChangedBy() changedBy?: string): Promise<GeneratedKeyResponseDto> {
    return this.keys.regenerate(dto, undefined, { caller, changedBy });
  }

  @Post(':key/regenerate')
  @DocumentsChangedBy()
  @HttpCode(200)
  @Access('team_admin')
  @ApiOperation({ summary: 'The same as POST /key/regenerate, the key in the path (a `key` in the body wins)' })
  @ApiParam({ name: 'key', description: 'The key or its token', example: 'sk-KbUuE0WNptC0jXapyMmLBA' })
  @ApiJsonBody(RegenerateKeyDto, {}, 'Keep every setting')
  @ApiOkResponse({ type: GeneratedKeyResponseDto })
  regenerateByPath(
    @Param('key') key: string,
    @Body() dto: RegenerateKeyDto,
    @CurrentPrincipal() caller: Principal,
    @ChangedBy() changedBy?: string,
  ): Promise<GeneratedKeyResponseDto> {
    return this.keys.regenerate(dto, key, { caller, changedBy });
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
  @ApiOperation({ summary: 'The caller’s key, or `?key=` (a key or its token): its own, its user’s, or one it manages; unknown → 404' })
  @ApiQuery({ name: 'key', required: false })
  info(@Query('key') key: string | undefined, @CurrentPrincipal() caller: Principal): Promise<{ key: string; info: KeyInfoDto }> {
    return this.keys.info(caller, key);
  }

  @Get('list')
  @Access('team_admin')
  @ApiOperation({ summary: 'Key tokens (or full objects with return_full_object=true); team admins see their teams’ keys' })
  @ApiQuery({ name: 'team_id', required: false })
  @ApiQuery({ name: 'user_id', required: false })
  @ApiQuery({ name: 'key_alias', required: false })
  @ApiQuery({ name: 'key_hash', required: false })
  @ApiQuery({ name: 'organization_id', required: false })
  @ApiQuery({ name: 'page', required: false, example: 1 })
  @ApiQuery({ name: 'size', required: false, example: 50 })
  @ApiQuery({ name: 'return_full_object', required: false, example: false })
  @ApiQuery({ name: 'include_team_keys', required: false, example: false, description: 'With user_id: also the keys of the user’s teams' })
  @ApiQuery({ name: 'sort_by', required: false, enum: KEY_SORT_FIELDS })
  @ApiQuery({ name: 'sort_order', required: false, enum: ['asc', 'desc'] })
  @ApiQuery({ name: 'status', required: false, enum: ['deleted'] })
  list(
    @CurrentPrincipal() caller: Principal,
    @Query() query: Record<string, string | undefined>,
  ): Promise<KeyListResponse> {
    const sortBy = query.sort_by ?? 'created_at';
    if (!(KEY_SORT_FIELDS as readonly string[]).includes(sortBy)) {
      throw new AppException('validation_failed', `sort_by must be one of ${KEY_SORT_FIELDS.join(', ')}`, { param: 'sort_by' });
    }
    const sortOrder = (query.sort_order ?? 'desc').toLowerCase();
    if (sortOrder !== 'asc' && sortOrder !== 'desc') throw new AppException('validation_failed', 'sort_order must be asc or desc', { param: 'sort_order' });
    if (query.status !== undefined && query.status !== 'deleted') {
      throw new AppException('validation_failed', "status must be 'deleted' when given", { param: 'status' });
    }
    return this.keys.list(caller, {
      team_id: query.team_id,
      user_id: query.user_id,
      key_alias: query.key_alias,
      key_hash: query.key_hash,
      organization_id: query.organization_id,
      page: positiveInt(query.page, 1, 'page', 1_000_000),
      size: positiveInt(query.size, 50, 'size', 1000),
      return_full_object: query.return_full_object === 'true',
      include_team_keys: query.include_team_keys === 'true',
      sort_by: sortBy as KeySortField,
      sort_order: sortOrder,
      deleted: query.status === 'deleted',
    });
  }

  @Post('delete')
  @HttpCode(200)
  @DocumentsChangedBy()
  @Access('team_admin')
  @ApiOperation({ summary: 'Delete keys (given as keys or tokens, or by key_aliases)' })
  @ApiJsonBody(DeleteKeysDto, { keys: ['sk-KbUuE0WNptC0jXapyMmLBA'] }, 'The seed’s example key')
  delete(@Body() dto: DeleteKeysDto, @CurrentPrincipal() caller: Principal, @ChangedBy() changedBy?: string): Promise<{ deleted_keys: string[] }> {
    return this.keys.delete(dto, { caller, changedBy });
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
