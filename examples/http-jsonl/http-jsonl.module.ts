import { LogDestinationModule } from '../../src/logging/delivery/destination-module';
import { HttpJsonlDefinition } from './http-jsonl.destination';

/**
 * Registers the `http_jsonl` destination. Add it to a gateway with `GATEHOUSE_MODULES=<this file, built>#HttpJsonlModule`
 * or `AppModule.forRoot(settings, [HttpJsonlModule])`; `path` lets the delivery thread import the same module.
 */
@LogDestinationModule({ destinations: [HttpJsonlDefinition], path: __filename })
export class HttpJsonlModule {}
