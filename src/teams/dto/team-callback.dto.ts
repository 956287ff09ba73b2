import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/**
 * Body of `POST /team/{team_id}/callback`. Documentation only: the body is validated by
 * `LoggingEntryPolicy`, the same rules that apply to `metadata.logging` of keys and teams.
 */
export class AddTeamCallbackDto {
  @ApiProperty({ example: 'langfuse', description: 'A registered destination: the built-in langfuse, gcs_bucket, otel, langsmith, s3, datadog, generic_api, arize, arize_phoenix, langfuse_otel, or one a module registers (README: Extending)' })
  callback_name: string;

  @ApiPropertyOptional({ enum: ['success', 'failure', 'success_and_failure'], default: 'success_and_failure', example: 'success' })
  callback_type?: string;

  @ApiProperty({
    example: { langfuse_public_key: 'pk', langfuse_secret_key: 'sk_', langfuse_host: 'https://cloud.langfuse.com' },
    description:
      'langfuse: langfuse_public_key, langfuse_secret_key (or langfuse_secret), langfuse_host · gcs_bucket: gcs_bucket_name, ' +
      'gcs_service_account_json (gcs_path_service_account: proxy admin only) · otel: otel_endpoint, otel_headers, otel_service_name · ' +
      'langsmith: langsmith_api_key, langsmith_project, langsmith_base_url · arize: arize_space_key (or arize_space_id), arize_api_key, ' +
      'arize_endpoint, arize_project_name · arize_phoenix: phoenix_api_key, phoenix_collector_endpoint, phoenix_project_name · ' +
      'langfuse_otel: langfuse_public_key, langfuse_secret_key, langfuse_host. Secrets are stored encrypted and never returned.',
  })
  callback_vars: Record<string, string>;
}

export class TeamCallbacksResponseDto {
  @ApiProperty({ example: 'success' }) status: 'success';
  @ApiProperty({
    example: {
      team_id: 'dbe2f686-a686-4896-864a-4c3924458709',
      success_callbacks: ['langfuse'],
      failure_callbacks: [],
      callback_vars: { langfuse_public_key: '***REDACTED***', langfuse_secret_key: '***REDACTED***', langfuse_host: 'https://cloud.langfuse.com' },
    },
  })
  data: Record<string, unknown>;
}
