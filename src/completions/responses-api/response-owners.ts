import type { Principal } from '../../keys/principal';
import type { CompiledDeployment } from '../deployment-table';

/** Responses remembered at most; past it the oldest are forgotten (ids are made per call, so the map must stay bounded). */
const MAX_ENTRIES = 50_000;
/** OpenAI keeps a stored response 30 days; a gateway forgetting it sooner only means a 404 on a later `GET`. */
const TTL_MS = 30 * 24 * 3600 * 1000;

export interface ResponseOwner {
  /** The deployment that made it, as it served the call (a wildcard's model filled in): later calls go there. */
  readonly deployment: CompiledDeployment;
  /** The model name the caller asked for: a key that may no longer use it cannot read the response either. */
  readonly model: string;
  readonly keyHash: string | null;
  readonly teamId: string | null;
  readonly master: boolean;
  readonly expiresAt: number;
}

/**
 * Which deployment made each response an OpenAI or Azure upstream keeps, and for whom: `GET` / `DELETE
 * /v1/responses/{id}` and `previous_response_id` go to that deployment, and only for the same key or a key of its
 * team. Kept in this process only: it does not survive a restart and is not shared between gateway instances (a
 * response made before, or through another instance, answers 404 here, as one of another key does).
 */
export class ResponseOwners {
  private readonly entries = new Map<string, ResponseOwner>();

  remember(id: string, deployment: CompiledDeployment, model: string, principal: Principal): void {
    this.entries.delete(id);
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(id, {
      deployment,
      model,
      keyHash: principal.keyHash,
      teamId: principal.teamId,
      master: principal.kind === 'master',
      expiresAt: Date.now() + TTL_MS,
    });
  }

  /** The response's owner when `principal` may see it; undefined when it is unknown or another caller's (one answer for both). */
  find(id: string, principal: Principal): ResponseOwner | undefined {
    const owner = this.entries.get(id);
    if (owner === undefined) return undefined;
    if (owner.expiresAt <= Date.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return ownedBy(owner, principal) ? owner : undefined;
  }

  /** True when the id is remembered for another caller: it must not be used as theirs. */
  isOthers(id: string, principal: Principal): boolean {
    const owner = this.entries.get(id);
    return owner !== undefined && owner.expiresAt > Date.now() && !ownedBy(owner, principal);
  }

  forget(id: string): void {
    this.entries.delete(id);
  }
}

function ownedBy(owner: ResponseOwner, principal: Principal): boolean {
  if (principal.kind === 'master') return owner.master;
  if (owner.keyHash !== null && owner.keyHash === principal.keyHash) return true;
  return owner.teamId !== null && owner.teamId === principal.teamId;
}
