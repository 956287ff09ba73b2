import { Injectable } from '@nestjs/common';
import type { EgressPolicy, LogDestinationDefinition } from '../../../log-destination';
import { S3_VARS, S3Destination, type S3Settings } from './s3.destination';

/**
 * `s3`: LiteLLM's S3 logger, one object per batch, signed with SigV4. Its settings come from `callback_vars`, or for
 * the global callback from `litellm_settings.s3_callback_params`; an entry of the proxy admin or config without a
 * key pair signs with the AWS environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN).
 */
@Injectable()
export class S3Definition implements LogDestinationDefinition<S3Settings> {
  readonly callbackName = 's3';
  readonly vars = S3_VARS;
  readonly guardsItsConnections = true;

  create(egress: EgressPolicy | undefined): S3Destination {
    return new S3Destination({ egress, ambientCredentials: egress === undefined });
  }
}
