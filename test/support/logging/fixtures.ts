import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyPair } from '../fakes/fake-langfuse';
import { secret } from './harness';

/** The mock models' answers: long enough that a stream comes in several chunks. */
export const GPT4_ANSWER = 'Good morning! This answer from the offline gpt-4 arrives in several streamed pieces.';
export const FAKE_ENDPOINT_ANSWER = 'Hi from the fake OpenAI endpoint, answered offline.';
/** The tutorial team of the seed ("Team Logging via API"). */
export const TUTORIAL_TEAM = 'dbe2f686-a686-4896-864a-4c3924458709';

export interface ModelListOptions {
  /** Adds `broken-upstream`: an OpenAI deployment on a closed loopback port (connection refused → 502). */
  brokenUpstreamPort?: number;
  /** Its api_key, so specs can check it never leaks into logs. */
  brokenUpstreamKey?: string;
}

/** The example models (`fake-openai-endpoint`, `gpt-4`, answered offline), plus an optional failing one. */
export function modelListYaml(options: ModelListOptions = {}): string {
  const lines = [
    'model_list:',
    '  - model_name: fake-openai-endpoint',
    '    litellm_params:',
    '      model: mock/fake-openai-endpoint',
    `      mock_response: "${FAKE_ENDPOINT_ANSWER}"`,
    '    model_info:',
    '      input_cost_per_token: 0.0000005',
    '      output_cost_per_token: 0.0000015',
    '  - model_name: gpt-4',
    '    litellm_params:',
    '      model: mock/gpt-4',
    `      mock_response: "${GPT4_ANSWER}"`,
    '    model_info:',
    '      input_cost_per_token: 0.00003',
    '      output_cost_per_token: 0.00006',
  ];
  if (options.brokenUpstreamPort !== undefined) {
    lines.push(
      '  - model_name: broken-upstream',
      '    litellm_params:',
      '      model: openai/gpt-4o',
      `      api_base: http://127.0.0.1:${options.brokenUpstreamPort}/v1`,
      `      api_key: ${options.brokenUpstreamKey ?? 'sk-upstream-not-a-secret'}`,
      '      max_retries: 0',
      '      timeout: 5',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** A Langfuse project on the fake: a key pair with distinctive values. */
export function langfuseProject(label: string): KeyPair {
  return { publicKey: `pk-lf-${secret(label)}`, secretKey: `sk-lf-${secret(label)}` };
}

/** A temporary directory for service-account files; `cleanup()` in afterAll. */
export function tempDir(prefix: string): { path: string; write(name: string, content: string): string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    write(name: string, content: string): string {
      const file = join(path, name);
      writeFileSync(file, content, { mode: 0o600 });
      return file;
    },
    cleanup(): void {
      rmSync(path, { recursive: true, force: true });
    },
  };
}
