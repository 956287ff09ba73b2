import type { GatewaySettings } from '../../../config/gateway-settings';
import type { LogDestinationDefinition } from '../../log-destination';
import { LogDestinationModule } from '../destination-module';
import { DatadogDefinition } from './datadog/datadog.definition';
import { ArizeDefinition } from './arize/arize.definition';
import { ArizePhoenixDefinition } from './arize-phoenix/arize-phoenix.definition';
import { GcsBucketDefinition } from './gcs-bucket/gcs-bucket.definition';
import { GenericApiDefinition } from './generic-api/generic-api.definition';
import { LangfuseDefinition } from './langfuse/langfuse.definition';
import { LangfuseOtelDefinition } from './langfuse-otel/langfuse-otel.definition';
import { LangsmithDefinition } from './langsmith/langsmith.definition';
import { OtelDefinition } from './otel/otel.definition';
import { S3Definition } from './s3/s3.definition';

/** Gatehouse's own destinations, registered like any other (LoggingModule imports this module). */
@LogDestinationModule({
  destinations: [
    LangfuseDefinition,
    GcsBucketDefinition,
    OtelDefinition,
    LangsmithDefinition,
    S3Definition,
    DatadogDefinition,
    GenericApiDefinition,
    ArizeDefinition,
    ArizePhoenixDefinition,
    LangfuseOtelDefinition,
  ],
  path: __filename,
})
export class BuiltInDestinationsModule {}

/**
 * The built-in definitions made by hand, for code constructed without Nest (a LoggingResolver in a unit spec); the
 * application always uses the registry.
 */
export function builtInDefinitions(settings: GatewaySettings): LogDestinationDefinition[] {
  return [
    new LangfuseDefinition(settings),
    new GcsBucketDefinition(settings),
    new OtelDefinition(),
    new LangsmithDefinition(),
    new S3Definition(),
    new DatadogDefinition(),
    new GenericApiDefinition(),
    new ArizeDefinition(),
    new ArizePhoenixDefinition(),
    new LangfuseOtelDefinition(),
  ];
}
