import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiPropertyOptional, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsOptional, IsString, Matches, ValidateBy } from 'class-validator';
import { ApiJsonBody } from '../common/api-body-example';
import { AppException } from '../errors';
import { Access } from '../keys/auth.decorators';
import { OutboxStore, type DeadLetter } from './delivery/outbox.store';
import { DeliveryHandover } from './request/delivery-handover';
import { isDestinationKind, registeredKinds } from './log-destination';

const KIND_DESCRIPTION = 'A registered callback_name: langfuse, gcs_bucket, otel, langsmith, arize, arize_phoenix, langfuse_otel, or one a module adds';

/** `@IsIn` over the destinations registered when the request is validated (modules add kinds at start-up). */
function IsRegisteredDestination(): PropertyDecorator {
  return ValidateBy({
    name: 'isRegisteredDestination',
    validator: {
      validate: (value) => isDestinationKind(value),
      defaultMessage: (args) => `${args?.property ?? 'kind'} must be one of the following values: ${registeredKinds().join(', ')}`,
    },
  });
}

export class ReplayDeadLettersDto {
  @ApiPropertyOptional({ example: ['42'], description: 'Dead letters by id; omit to select by team and/or kind' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10_000)
  @Matches(/^\d{1,19}$/, { each: true, message: 'ids must be numeric strings' })
  ids?: string[];

  @ApiPropertyOptional({ example: 'ishaans-secret-project' })
  @IsOptional()
  @IsString()
  team_id?: string;

  @ApiPropertyOptional({ example: 'langfuse', description: KIND_DESCRIPTION })
  @IsOptional()
  @IsRegisteredDestination()
  kind?: string;
}

class ReplayResponseDto {
  @ApiProperty({ example: 12 }) replayed: number;
}

/** Events a destination kept refusing. The proxy admin can look at them and send them again. */
@ApiTags('logging')
@Controller('logging/dead-letters')
export class DeadLettersController {
  constructor(
    private readonly store: OutboxStore,
    private readonly delivery: DeliveryHandover,
  ) {}

  @Get()
  @Access('admin')
  @ApiOperation({ summary: 'Dead-lettered log events (without their payloads)' })
  @ApiQuery({ name: 'team_id', required: false })
  @ApiQuery({ name: 'kind', required: false, example: 'langfuse', description: KIND_DESCRIPTION })
  @ApiQuery({ name: 'limit', required: false, example: 100 })
  async list(@Query('team_id') teamId?: string, @Query('kind') kind?: string, @Query('limit') limit?: string): Promise<{ data: DeadLetter[] }> {
    const take = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(take) || take < 1 || take > 10_000) {
      throw new AppException('validation_failed', 'limit must be an integer between 1 and 10000', { param: 'limit' });
    }
    return { data: await this.store.listDead({ teamId, kind }, take) };
  }

  @Post('replay')
  @HttpCode(200)
  @Access('admin')
  @ApiOperation({ summary: 'Send dead letters again (after fixing the destination or its credentials)' })
  @ApiJsonBody(ReplayDeadLettersDto, { team_id: 'ishaans-secret-project', kind: 'langfuse' }, 'One team’s Langfuse dead letters')
  async replay(@Body() dto: ReplayDeadLettersDto): Promise<ReplayResponseDto> {
    const replayed = await this.store.replay({ ids: dto.ids, teamId: dto.team_id, kind: dto.kind });
    this.delivery.poll();
    return { replayed };
  }
}
