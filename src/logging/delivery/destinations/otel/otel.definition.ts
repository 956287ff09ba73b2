import { Injectable } from '@nestjs/common';
import type { EgressPolicy, LogDestinationDefinition } from '../../../log-destination';
import { OTEL_VARS, OtelDestination, type OtelSettings } from './otel.destination';

/** `otel`: one OTLP/HTTP JSON span per request. */
@Injectable()
export class OtelDefinition implements LogDestinationDefinition<OtelSettings> {
  readonly callbackName = 'otel';
  readonly vars = OTEL_VARS;
  readonly environment = { otel_endpoint: 'OTEL_EXPORTER_OTLP_ENDPOINT', otel_headers: 'OTEL_EXPORTER_OTLP_HEADERS', otel_service_name: 'OTEL_SERVICE_NAME' };
  readonly guardsItsConnections = true;

  create(egress: EgressPolicy | undefined): OtelDestination {
    return new OtelDestination({ egress });
  }
}
