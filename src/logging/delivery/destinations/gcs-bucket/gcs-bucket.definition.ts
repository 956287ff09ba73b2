import { Injectable } from '@nestjs/common';
import { GatewaySettings } from '../../../../config/gateway-settings';
import type { LogDestinationDefinition } from '../../../log-destination';
import { GCS_BUCKET_VARS, GcsBucketDestination, type GcsBucketSettings } from './gcs-bucket.destination';

/** `gcs_bucket`: one NDJSON object per batch. It only talks to Google (or STORAGE_EMULATOR_HOST): no URL var to guard. */
@Injectable()
export class GcsBucketDefinition implements LogDestinationDefinition<GcsBucketSettings> {
  readonly callbackName = 'gcs_bucket';
  readonly vars = GCS_BUCKET_VARS;
  readonly environment = { gcs_bucket_name: 'GCS_BUCKET_NAME', gcs_path_service_account: 'GCS_PATH_SERVICE_ACCOUNT' };
  readonly guardsItsConnections = true;

  constructor(private readonly gateway: GatewaySettings) {}

  create(): GcsBucketDestination {
    return new GcsBucketDestination({ apiEndpoint: this.gateway.environment.STORAGE_EMULATOR_HOST });
  }
}
