import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, MoreThan, type Repository } from 'typeorm';
import type { Principal } from '../../keys/principal';
import { DeploymentTable, type CompiledDeployment } from '../deployment-table';
import { deploymentFor } from '../wildcard-deployment';
import { ResponseOwnerRow } from './response-owner.entity';

/** OpenAI keeps a stored response 30 days; a gateway forgetting it sooner only means a 404 on a later `GET`. */
const TTL_MS = 30 * 24 * 3600 * 1000;
const PURGE_EVERY_MS = 6 * 3600 * 1000;

export interface ResponseOwner {
  /** The deployment that made it, as it served the call (a wildcard's model filled in): later calls go there. */
  readonly deployment: CompiledDeployment;
  /** The model name the caller asked for: a key that may no longer use it cannot read the response either. */
  readonly model: string;
  readonly keyHash: string | null;
  readonly teamId: string | null;
  readonly master: boolean;
}

/**
 * Which deployment made each response an OpenAI or Azure upstream keeps, and for whom (`response_owner` rows, so a
 * restart or another instance on the same database still knows, and a deleted key or team takes its rows along).
 * A deployment no longer configured under that model name reads as unknown: a 404, as for another caller's response.
 */
@Injectable()
export class ResponseOwners implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ResponseOwners.name);
  /** Rows being written: a `GET` right after the answer waits for its row rather than missing it. */
  private readonly writing = new Map<string, Promise<void>>();
  private purgeTimer: NodeJS.Timeout | null = null;

  constructor(
    @InjectRepository(ResponseOwnerRow) private readonly rows: Repository<ResponseOwnerRow>,
    @Inject(DeploymentTable) private readonly table: DeploymentTable,
  ) {}

  onApplicationBootstrap(): void {
    void this.purge();
    this.purgeTimer = setInterval(() => void this.purge(), PURGE_EVERY_MS).unref();
  }

  onModuleDestroy(): void {
    if (this.purgeTimer !== null) clearInterval(this.purgeTimer);
  }

  /** Called once the answer went out: the row is written off the request path (a failed write only costs a later 404). */
  remember(id: string, deployment: CompiledDeployment, model: string, principal: Principal): void {
    const row = { id, modelId: deployment.modelId, model, keyHash: principal.keyHash, teamId: principal.teamId, master: principal.kind === 'master' };
    const write = this.rows
      .upsert(row, ['id'])
      .then(() => undefined)
      .catch((error: unknown) => this.logger.warn(`could not keep the owner of a stored response: ${(error as Error).message}`))
      .finally(() => {
        if (this.writing.get(id) === write) this.writing.delete(id);
      });
    this.writing.set(id, write);
  }

  /** The response's owner, whoever it is (see `ownedBy`); undefined when unknown, expired or its deployment is gone. */
  async find(id: string): Promise<ResponseOwner | undefined> {
    await this.writing.get(id);
    const row = await this.rows.findOneBy({ id, createdAt: MoreThan(new Date(Date.now() - TTL_MS)) });
    if (row === null) return undefined;
    const routed = this.table.route(row.model);
    const configured = routed?.group.deployments.find((deployment) => deployment.modelId === row.modelId);
    if (routed === undefined || configured === undefined) return undefined;
    return {
      deployment: deploymentFor(configured, routed.segments, routed.name),
      model: row.model,
      keyHash: row.keyHash,
      teamId: row.teamId,
      master: row.master,
    };
  }

  async forget(id: string): Promise<void> {
    await this.rows.delete({ id });
  }

  private async purge(): Promise<void> {
    try {
      await this.rows.delete({ createdAt: LessThan(new Date(Date.now() - TTL_MS)) });
    } catch (error) {
      this.logger.warn(`could not purge expired response owners: ${(error as Error).message}`);
    }
  }
}

/** The key that made a response and the keys of its team may use it; the master key only what it made itself. */
export function ownedBy(owner: ResponseOwner, principal: Principal): boolean {
  if (principal.kind === 'master') return owner.master;
  if (owner.keyHash !== null && owner.keyHash === principal.keyHash) return true;
  return owner.teamId !== null && owner.teamId === principal.teamId;
}
