import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Access, CurrentPrincipal } from '../keys/auth.decorators';
import type { Principal } from '../keys/principal';
import { DeploymentTable } from './deployment-table';
import { deploymentInfos, modelGroupInfos, type DeploymentInfo, type ModelGroupInfo } from './model-info';

const DEPLOYMENT_EXAMPLE = {
  model_name: 'fake-openai-endpoint',
  litellm_params: { model: 'mock/fake-openai-endpoint', timeout: 600, stream_timeout: 600, max_retries: 2 },
  model_info: { id: '…', db_model: false, mode: 'chat', litellm_provider: 'mock', input_cost_per_token: 0, output_cost_per_token: 0, access_groups: [] },
};

/** LiteLLM's model information routes: what a key may call, how it is routed and priced; never a credential. */
@ApiTags('Models')
@Access('any_key')
@Controller()
export class ModelInfoController {
  constructor(@Inject(DeploymentTable) private readonly table: DeploymentTable) {}

  @Get(['model/info', 'v1/model/info'])
  @ApiOperation({ summary: 'The deployments of the models this key may call (LiteLLM’s /model/info); no api keys or secrets' })
  @ApiQuery({ name: 'litellm_model_id', required: false, description: 'Only the deployment with this `model_info.id`' })
  @ApiOkResponse({ schema: { example: { data: [DEPLOYMENT_EXAMPLE] } } })
  modelInfo(@CurrentPrincipal() principal: Principal, @Query('litellm_model_id') modelId?: unknown): { data: DeploymentInfo[] } {
    return { data: deploymentInfos(this.table, principal, typeof modelId === 'string' ? modelId : undefined) };
  }

  @Get(['model_group/info', 'v1/model_group/info'])
  @ApiOperation({ summary: 'The model groups this key may call, with their providers, mode, prices and limits (LiteLLM’s /model_group/info)' })
  @ApiQuery({ name: 'model_group', required: false, description: 'Only this model group' })
  @ApiOkResponse({
    schema: {
      example: { data: [{ model_group: 'fake-openai-endpoint', providers: ['mock'], mode: 'chat', input_cost_per_token: 0, output_cost_per_token: 0, tpm: null, rpm: null, access_groups: [] }] },
    },
  })
  modelGroupInfo(@CurrentPrincipal() principal: Principal, @Query('model_group') group?: unknown): { data: ModelGroupInfo[] } {
    return { data: modelGroupInfos(this.table, principal, typeof group === 'string' ? group : undefined) };
  }
}
