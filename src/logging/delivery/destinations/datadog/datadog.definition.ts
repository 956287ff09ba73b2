import { Injectable } from '@nestjs/common';
import type { EgressPolicy, LogDestinationDefinition } from '../../../log-destination';
import { DATADOG_VARS, DatadogDestination, type DatadogSettings } from './datadog.destination';

/**
 * `datadog`: Datadog's logs intake (POST /api/v2/logs), one log item per request with the StandardLoggingPayload as
 * its message, as LiteLLM's Datadog logger sends them. Globally configured from LiteLLM's DD_API_KEY / DD_SITE and
 * its DD_BASE_URL override.
 */
@Injectable()
export class DatadogDefinition implements LogDestinationDefinition<DatadogSettings> {
  readonly callbackName = 'datadog';
  readonly vars = DATADOG_VARS;
  readonly environment = { dd_api_key: 'DD_API_KEY', dd_site: 'DD_SITE', dd_base_url: 'DD_BASE_URL' };
  readonly guardsItsConnections = true;

  create(egress: EgressPolicy | undefined): DatadogDestination {
    return new DatadogDestination({ egress });
  }
}
