import { Injectable } from '@nestjs/common';
import type { EgressPolicy, LogDestinationDefinition } from '../../../log-destination';
import { LANGSMITH_VARS, LangsmithDestination, type LangsmithSettings } from './langsmith.destination';

/** `langsmith`: one `llm` run per request, through POST /runs/batch. */
@Injectable()
export class LangsmithDefinition implements LogDestinationDefinition<LangsmithSettings> {
  readonly callbackName = 'langsmith';
  readonly vars = LANGSMITH_VARS;
  readonly environment = { langsmith_api_key: 'LANGSMITH_API_KEY', langsmith_project: 'LANGSMITH_PROJECT', langsmith_base_url: 'LANGSMITH_BASE_URL' };
  readonly guardsItsConnections = true;

  create(egress: EgressPolicy | undefined): LangsmithDestination {
    return new LangsmithDestination({ egress });
  }
}
