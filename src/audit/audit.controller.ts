import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AppException } from '../errors';
import { Access } from '../keys/auth.decorators';
import { AuditLogResponse, AuditService } from './audit.service';

@ApiTags('audit')
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Access('admin')
  @ApiOperation({ summary: 'Changes to teams’ and keys’ logging, newest first (secrets masked)' })
  @ApiQuery({ name: 'team_id', required: false })
  @ApiQuery({ name: 'limit', required: false, example: 100 })
  async list(@Query('team_id') teamId?: string, @Query('limit') limit?: string): Promise<{ data: AuditLogResponse[] }> {
    const take = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(take) || take < 1 || take > 1000) {
      throw new AppException('validation_failed', 'limit must be an integer between 1 and 1000', { param: 'limit' });
    }
    return { data: await this.audit.list({ teamId, limit: take }) };
  }
}
