import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** One deployment in `/health`'s answer: routing facts only (LiteLLM's allow-list), never a credential. */
export class HealthEndpointDto {
  @ApiProperty({ example: 'openai/gpt-4o-mini', description: 'The upstream model, with its provider prefix' }) model: string;
  @ApiProperty({ example: 'gpt-4o-mini', description: 'The model group (`model_name`) the deployment serves' }) model_name: string;
  @ApiProperty({ example: '5f1c0e7a2b9d4c31', description: 'The deployment’s `model_info.id`' }) model_id: string;
  @ApiProperty({ example: 'openai' }) custom_llm_provider: string;
  @ApiProperty({ example: 'chat', enum: ['chat', 'embedding', 'completion'], description: 'What the probe called' }) mode: string;
  @ApiPropertyOptional({ example: 'https://api.openai.com/v1', description: 'Origin and path, no query or credentials' }) api_base?: string;
  @ApiPropertyOptional({ example: 100000 }) tpm?: number;
  @ApiPropertyOptional({ example: 1000 }) rpm?: number;
  @ApiPropertyOptional({
    example: "openai upstream error (HTTP 401): Incorrect API key provided: [REDACTED] (the deployment's upstream credentials were rejected)",
    description: 'Unhealthy only: why, with any credential redacted',
  })
  error?: string;
  @ApiPropertyOptional({ example: 502, description: 'Unhealthy only: the status the gateway answers calls with for this failure' }) exception_status?: number;
}

export class HealthReportDto {
  @ApiProperty({ type: [HealthEndpointDto] }) healthy_endpoints: HealthEndpointDto[];
  @ApiProperty({ type: [HealthEndpointDto] }) unhealthy_endpoints: HealthEndpointDto[];
  @ApiProperty({ example: 1 }) healthy_count: number;
  @ApiProperty({ example: 0 }) unhealthy_count: number;
}
