import type { Principal } from '../keys/principal';
import type { CompiledDeployment, DeploymentTable, ModelGroup } from './deployment-table';

/** One deployment as LiteLLM's `/model/info` shows it: how it is routed and priced, never a credential. */
export interface DeploymentInfo {
  model_name: string;
  litellm_params: Record<string, string | number>;
  model_info: Record<string, unknown>;
}

/** One model group as LiteLLM's `/model_group/info` shows it. */
export interface ModelGroupInfo {
  model_group: string;
  providers: string[];
  mode: string;
  input_cost_per_token: number;
  output_cost_per_token: number;
  tpm: number | null;
  rpm: number | null;
  access_groups: string[];
}

/**
 * The deployments of the groups `principal` may call (`modelId`: only that one). Built from the compiled deployment,
 * not from `litellm_params`, so a key, a secret or an `os.environ/` value cannot appear: only the provider, the
 * upstream model, the address as the log shows it (no query, no credentials), timeouts, limits and prices.
 */
export function deploymentInfos(table: DeploymentTable, principal: Principal | undefined, modelId?: string): DeploymentInfo[] {
  const out: DeploymentInfo[] = [];
  for (const group of visibleGroups(table, principal)) {
    for (const deployment of group.deployments) {
      if (modelId !== undefined && deployment.modelId !== modelId) continue;
      const params: Record<string, string | number> = {
        model: `${deployment.providerLabel}/${deployment.upstreamModel}`,
        timeout: deployment.timeoutMs / 1000,
        stream_timeout: deployment.streamTimeoutMs / 1000,
        max_retries: deployment.maxRetries,
      };
      if (deployment.apiBaseForLog !== null) params.api_base = deployment.apiBaseForLog;
      for (const [name, value] of [['weight', deployment.weight], ['rpm', deployment.rpm], ['tpm', deployment.tpm]] as const) if (value !== null) params[name] = value;
      out.push({
        model_name: group.name,
        litellm_params: params,
        model_info: {
          id: deployment.modelId,
          db_model: false,
          mode: modeOf(deployment),
          litellm_provider: deployment.providerLabel,
          input_cost_per_token: deployment.inputCostPerToken,
          output_cost_per_token: deployment.outputCostPerToken,
          access_groups: group.accessGroups,
        },
      });
    }
  }
  return out;
}

/** The model groups `principal` may call (`name`: only that one), each summed over its deployments. */
export function modelGroupInfos(table: DeploymentTable, principal: Principal | undefined, name?: string): ModelGroupInfo[] {
  return visibleGroups(table, principal)
    .filter((group) => name === undefined || group.name === name)
    .map((group) => {
      const [first] = group.deployments;
      return {
        model_group: group.name,
        providers: [...new Set(group.deployments.map((deployment) => deployment.providerLabel))],
        mode: modeOf(first),
        input_cost_per_token: first.inputCostPerToken,
        output_cost_per_token: first.outputCostPerToken,
        tpm: sumOrNull(group.deployments.map((deployment) => deployment.tpm)),
        rpm: sumOrNull(group.deployments.map((deployment) => deployment.rpm)),
        access_groups: [...group.accessGroups],
      };
    });
}

function visibleGroups(table: DeploymentTable, principal: Principal | undefined): ModelGroup[] {
  const allowed = principal?.allowedModels ?? null;
  const groups: ModelGroup[] = [];
  for (const name of table.modelNames) {
    const group = table.group(name);
    if (group !== undefined && (allowed === null || allowed.allows(name, table.grantsFor(name)))) groups.push(group);
  }
  return groups;
}

/** LiteLLM's `mode`: what the deployment serves first. */
function modeOf(deployment: CompiledDeployment): string {
  const endpoints = deployment.target?.endpoints;
  if (endpoints === undefined || endpoints.has('chat')) return 'chat';
  return endpoints.has('embeddings') ? 'embedding' : 'completion';
}

function sumOrNull(values: ReadonlyArray<number | null>): number | null {
  const known = values.filter((value): value is number => value !== null);
  return known.length === 0 ? null : known.reduce((sum, value) => sum + value, 0);
}
