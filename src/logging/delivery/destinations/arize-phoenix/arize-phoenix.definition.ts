import { Injectable } from '@nestjs/common';
import type { EgressPolicy, LogDestinationDefinition } from '../../../log-destination';
import type { OtelSettings } from '../otel/otel.destination';
import type { OtlpVariantDestination } from '../otel/otlp-variant';
import { ARIZE_PHOENIX_VARS, arizePhoenixDestination, PHOENIX_DEFAULT_ENDPOINT } from './arize-phoenix.destination';

/** `arize_phoenix`: one OTLP span per request to Arize Phoenix, with OpenInference attributes. */
@Injectable()
export class ArizePhoenixDefinition implements LogDestinationDefinition<OtelSettings> {
  readonly callbackName = 'arize_phoenix';
  readonly vars = ARIZE_PHOENIX_VARS;
  readonly environment = {
    phoenix_api_key: 'PHOENIX_API_KEY',
    phoenix_collector_endpoint: 'PHOENIX_COLLECTOR_HTTP_ENDPOINT',
    phoenix_project_name: 'PHOENIX_PROJECT_NAME',
  };
  readonly guardsItsConnections = true;

  create(egress: EgressPolicy | undefined): OtlpVariantDestination {
    const endpoint = process.env.PHOENIX_COLLECTOR_HTTP_ENDPOINT || process.env.PHOENIX_COLLECTOR_ENDPOINT || PHOENIX_DEFAULT_ENDPOINT;
    return arizePhoenixDestination({ endpoint }, { egress });
  }
}
