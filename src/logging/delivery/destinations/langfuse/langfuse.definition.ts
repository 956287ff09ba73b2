import { Injectable } from '@nestjs/common';
import { GatewaySettings } from '../../../../config/gateway-settings';
import type { EgressPolicy, LogDestinationDefinition } from '../../../log-destination';
import { LANGFUSE_CLOUD_HOST, LANGFUSE_VARS, LangfuseDestination, type LangfuseSettings } from './langfuse.destination';

/** `langfuse`: one trace + one generation per request, through Langfuse's ingestion API. */
@Injectable()
export class LangfuseDefinition implements LogDestinationDefinition<LangfuseSettings> {
  readonly callbackName = 'langfuse';
  readonly vars = LANGFUSE_VARS;
  readonly environment = { langfuse_public_key: 'LANGFUSE_PUBLIC_KEY', langfuse_secret_key: 'LANGFUSE_SECRET_KEY', langfuse_host: 'LANGFUSE_HOST' };
  readonly guardsItsConnections = true;

  constructor(private readonly gateway: GatewaySettings) {}

  create(egress: EgressPolicy | undefined): LangfuseDestination {
    return new LangfuseDestination({ defaultHost: this.gateway.environment.LANGFUSE_HOST ?? LANGFUSE_CLOUD_HOST, egress });
  }
}
