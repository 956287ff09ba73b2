import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Access } from '../keys/auth.decorators';
import { HealthReportDto } from './model-health.dto';
import { HEALTH_RESULT_TTL_MS, ModelHealthService, type HealthReport } from './model-health.service';

/** LiteLLM's `GET /health`: the deployments' health, by a small real call to each. The probes stay public beside it. */
@ApiTags('health')
@Controller('health')
export class ModelHealthController {
  constructor(@Inject(ModelHealthService) private readonly health: ModelHealthService) {}

  @Get()
  @Access('admin')
  @ApiOperation({
    summary: 'Checks each deployment with one small call (LiteLLM’s /health); proxy admin only',
    description:
      `A chat call (max_tokens 16), an embeddings call or a text completion per deployment, through the same provider code as a real call, ` +
      `with a short timeout. A deployment's result is reused for ${HEALTH_RESULT_TTL_MS / 1000} s and callers arriving during a check share it, ` +
      'so upstreams get at most one probe per period. Not logged, no spend. Entries never show an api key or header.',
  })
  @ApiQuery({ name: 'model', required: false, description: 'Only the deployments of this model group', example: 'gpt-4o-mini' })
  @ApiQuery({ name: 'model_id', required: false, description: 'Only the deployment with this `model_info.id`' })
  @ApiOkResponse({ type: HealthReportDto })
  @ApiNotFoundResponse({ description: 'No model group or deployment by that name or id' })
  check(@Query('model') model?: unknown, @Query('model_id') modelId?: unknown): Promise<HealthReport> {
    return this.health.check({
      model: typeof model === 'string' && model !== '' ? model : undefined,
      modelId: typeof modelId === 'string' && modelId !== '' ? modelId : undefined,
    });
  }
}
