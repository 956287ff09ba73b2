import { Injectable } from '@nestjs/common';
import type { EgressPolicy, LogDestinationDefinition } from '../../../log-destination';
import { GENERIC_API_VARS, GenericApiDestination, type GenericApiSettings } from './generic-api.destination';

/**
 * `generic_api`: LiteLLM's generic API logger — every batch POSTed to one endpoint as a JSON array of
 * StandardLoggingPayload (or NDJSON), with the configured headers. Globally configured from LiteLLM's
 * GENERIC_LOGGER_ENDPOINT / GENERIC_LOGGER_HEADERS.
 */
@Injectable()
export class GenericApiDefinition implements LogDestinationDefinition<GenericApiSettings> {
  readonly callbackName = 'generic_api';
  readonly vars = GENERIC_API_VARS;
  readonly environment = { generic_logger_endpoint: 'GENERIC_LOGGER_ENDPOINT', generic_logger_headers: 'GENERIC_LOGGER_HEADERS' };
  readonly guardsItsConnections = true;

  create(egress: EgressPolicy | undefined): GenericApiDestination {
    return new GenericApiDestination({ egress });
  }
}
