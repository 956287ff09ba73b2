import type { Environment } from './environment';
import type { GatewayConfig } from './gateway-config.types';

/**
 * Everything resolved at boot, injected by class: the validated environment, the validated config file
 * and the master key. Built once in `main.ts` (or by the test harness) before Nest starts, because the
 * database choice depends on it.
 */
export class GatewaySettings {
  constructor(
    readonly environment: Environment,
    readonly config: GatewayConfig,
    /** Resolved value; never logged. */
    readonly masterKey: string,
    readonly database: { readonly url: string; readonly poolSize: number; readonly embedded: boolean },
  ) {}
}
