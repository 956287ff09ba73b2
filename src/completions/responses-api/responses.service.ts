import { Inject, Injectable } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { SecretRedactor } from '../../common/secret-redactor';
import { AppException } from '../../errors';
import type { Principal } from '../../keys/principal';
import type { TrackedRequest } from '../call-tracker';
import { clipModel, CompletionsService, type ForeignFormat } from '../completions.service';
import { DeploymentTable, type CompiledDeployment } from '../deployment-table';
import type { RequestBody } from '../request-body';
import { ownedBy, ResponseOwners } from './response-owners';
import { ResponsesResponse } from './responses-response';
import { askStoredResponse } from './stored-response';

/** What OpenAI's response ids look like (`resp_…`); anything else is never sent upstream in a path. */
const RESPONSE_ID = /^[A-Za-z0-9_-]{1,200}$/;

/**
 * OpenAI's Responses API on top of the chat path (CompletionsService.chat): the body read and the answers written by
 * ResponsesResponse; an OpenAI or Azure deployment is sent the body as it came. A response such a deployment keeps is
 * remembered with its deployment and caller, for `GET` / `DELETE /v1/responses/{id}` and for `previous_response_id`.
 */
@Injectable()
export class ResponsesService {
  constructor(
    @Inject(CompletionsService) private readonly completions: CompletionsService,
    @Inject(ResponseOwners) private readonly owners: ResponseOwners,
    @Inject(DeploymentTable) private readonly table: DeploymentTable,
    @Inject(SecretRedactor) private readonly redactor: SecretRedactor,
  ) {}

  create(req: TrackedRequest & { body?: unknown }, res: ServerResponse, route: string): Promise<void> {
    const writer = ResponsesResponse.install(res);
    const principal = req.principal;
    const foreign: ForeignFormat = async (body) => {
      const read = writer.read(body);
      const pinned = await this.previousResponseDeployment(body, principal);
      return {
        chatBody: read.chatBody,
        native: read.native,
        // A cached answer has no stored response behind it: where one would be kept (and continued), none is replayed.
        cacheable: (group) => read.cacheable && (body.store === false || !group.deployments.some((deployment) => deployment.target?.native === 'openai-responses')),
        pinned,
        answered: (call) => {
          const id = writer.upstreamId;
          if (id !== null && principal !== undefined && call.deployment !== null) this.owners.remember(id, call.deployment, String(body.model), principal);
        },
      };
    };
    return this.completions.chat(req, res, route, foreign, undefined, 'aresponses');
  }

  /**
   * `GET` (`method`) or `DELETE /v1/responses/{id}`: asked of the deployment that made the response, for the caller
   * that made it (or its team) only; any other id is the same 404, so ids cannot be probed.
   */
  async stored(principal: Principal | undefined, id: string, method: 'GET' | 'DELETE', res: ServerResponse): Promise<void> {
    if (!principal) throw new AppException('missing_api_key', 'Authentication is required for this route');
    const owner = RESPONSE_ID.test(id) ? await this.owners.find(id) : undefined;
    const allowed = principal.allowedModels;
    if (owner === undefined || !ownedBy(owner, principal) || (allowed !== null && !allowed.allows(owner.model, this.table.grantsFor(owner.model)))) {
      throw new AppException('not_found', `Response with id '${clipModel(id)}' not found.`, { param: 'response_id' });
    }
    const answer = await askStoredResponse(owner.deployment, id, method, this.redactor);
    if (method === 'DELETE') await this.owners.forget(id);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length });
    res.end(answer);
  }

  /** The deployment keeping `previous_response_id`, when the gateway saw it made; another caller's id is a 404. */
  private async previousResponseDeployment(body: RequestBody, principal: Principal | undefined): Promise<CompiledDeployment | null> {
    const previous = body.previous_response_id;
    if (previous === undefined || previous === null || principal === undefined) return null;
    if (typeof previous !== 'string' || !RESPONSE_ID.test(previous)) {
      throw new AppException('validation_failed', '`previous_response_id` must be a response id', { param: 'previous_response_id' });
    }
    const owner = await this.owners.find(previous);
    if (owner !== undefined && !ownedBy(owner, principal)) {
      throw new AppException('not_found', `Previous response with id '${previous}' not found.`, { param: 'previous_response_id' });
    }
    // Pinned only within the group the caller names: the key's access to that model was checked on its name.
    return owner !== undefined && owner.model === body.model ? owner.deployment : null;
  }
}
