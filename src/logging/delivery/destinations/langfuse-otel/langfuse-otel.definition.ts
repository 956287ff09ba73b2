import { Injectable } from '@nestjs/common';
import type { EgressPolicy, LogDestinationDefinition } from '../../../log-destination';
import type { OtelSettings } from '../otel/otel.destination';
import type { OtlpVariantDestination } from '../otel/otlp-variant';
import { LANGFUSE_OTEL_DEFAULT_HOST, LANGFUSE_OTEL_VARS, langfuseOtelDestination } from './langfuse-otel.destination';

/** `langfuse_otel`: one OTLP span per request to Langfuse's OpenTelemetry endpoint. */
@Injectable()
export class LangfuseOtelDefinition implements LogDestinationDefinition<OtelSettings> {
  readonly callbackName = 'langfuse_otel';
  readonly vars = LANGFUSE_OTEL_VARS;
  readonly environment = { langfuse_public_key: 'LANGFUSE_PUBLIC_KEY', langfuse_secret_key: 'LANGFUSE_SECRET_KEY', langfuse_host: 'LANGFUSE_OTEL_HOST' };
  readonly guardsItsConnections = true;

  create(egress: EgressPolicy | undefined): OtlpVariantDestination {
    // LANGFUSE_OTEL_HOST wins (read as the entry's langfuse_host); LiteLLM's older releases read LANGFUSE_HOST.
    return langfuseOtelDestination({ host: process.env.LANGFUSE_HOST || LANGFUSE_OTEL_DEFAULT_HOST }, { egress });
  }
}
