import { Injectable } from '@nestjs/common';
import type { EgressPolicy, LogDestinationDefinition } from '../../../log-destination';
import type { OtelSettings } from '../otel/otel.destination';
import type { OtlpVariantDestination } from '../otel/otlp-variant';
import { ARIZE_DEFAULT_ENDPOINT, ARIZE_VARS, arizeDestination } from './arize.destination';

/** `arize`: one OTLP span per request to Arize AX, with OpenInference attributes. */
@Injectable()
export class ArizeDefinition implements LogDestinationDefinition<OtelSettings> {
  readonly callbackName = 'arize';
  readonly vars = ARIZE_VARS;
  readonly environment = {
    arize_space_key: 'ARIZE_SPACE_KEY',
    arize_space_id: 'ARIZE_SPACE_ID',
    arize_api_key: 'ARIZE_API_KEY',
    arize_endpoint: 'ARIZE_HTTP_ENDPOINT',
    arize_project_name: 'ARIZE_PROJECT_NAME',
  };
  readonly guardsItsConnections = true;

  create(egress: EgressPolicy | undefined): OtlpVariantDestination {
    // LiteLLM's ARIZE_ENDPOINT is Arize's gRPC address, which serves OTLP/HTTP too: used when no HTTP one is set.
    const endpoint = process.env.ARIZE_HTTP_ENDPOINT || process.env.ARIZE_ENDPOINT || ARIZE_DEFAULT_ENDPOINT;
    return arizeDestination({ endpoint }, { egress });
  }
}
