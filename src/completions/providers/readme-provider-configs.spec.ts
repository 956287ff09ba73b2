import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeServiceAccount } from '../../../test/support/fakes/fake-gemini';
import { ConfigValidationError, parseGatewayConfig } from '../../config/gateway-config';
import { DeploymentTable } from '../deployment-table';
import { providerFor } from './registry';

/*
 * Every `yaml` block under the README's "## Providers" heading is a config a LiteLLM user may copy: each must pass
 * config validation and compile into a deployment table with no problem and no warning, given a value for each
 * `os.environ/` variable it names. Anthropic's blocks wait for the provider; once `providerFor('anthropic')` exists
 * they are checked like the rest, with no edit here.
 */

const README = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');

function providersSection(markdown: string): string {
  const start = markdown.indexOf('\n## Providers\n');
  if (start === -1) throw new Error('README.md has no "## Providers" section');
  const next = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, next === -1 ? undefined : next);
}

const BLOCKS = [...providersSection(README).matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((match) => match[1]);

/** `setting: os.environ/NAME` pairs of a block, so each variable gets a value its setting can take. */
function envReferences(yaml: string): Array<{ setting: string; variable: string }> {
  return [...yaml.matchAll(/^\s*([\w-]+):\s*["']?os\.environ\/([A-Za-z_][A-Za-z0-9_]*)/gm)].map((match) => ({ setting: match[1], variable: match[2] }));
}

const serviceAccount = makeServiceAccount('readme-example', 'readme-project');

function dummyValue(setting: string, variable: string): string {
  if (setting === 'api_base' || setting.endsWith('_endpoint')) return 'https://example-resource.example.test';
  if (setting === 'aws_region_name') return 'us-east-1';
  if (setting === 'vertex_location') return 'us-central1';
  if (setting === 'vertex_credentials') return serviceAccount.json('https://oauth2.googleapis.com/token');
  return `placeholder-${variable.toLowerCase()}`;
}

function dummyEnv(yaml: string): NodeJS.ProcessEnv {
  return Object.fromEntries(envReferences(yaml).map(({ setting, variable }) => [variable, dummyValue(setting, variable)]));
}

/** What a block's deployments are, by `model:` prefix. */
function prefixes(yaml: string): string[] {
  return [...yaml.matchAll(/^\s*model:\s*["']?([\w-]+)\//gm)].map((match) => match[1]);
}

describe('README: the Providers section\'s config.yaml examples', () => {
  it('has an example for every provider the section promises', () => {
    const shown = new Set(BLOCKS.flatMap(prefixes));
    for (const prefix of ['openai', 'groq', 'hosted_vllm', 'azure', 'anthropic', 'gemini', 'vertex_ai', 'bedrock', 'ollama_chat', 'ollama']) {
      expect([prefix, shown.has(prefix)]).toEqual([prefix, true]);
    }
  });

  const waitsForAnthropic = (yaml: string): boolean => prefixes(yaml).includes('anthropic') && providerFor('anthropic') === undefined;
  const cases = BLOCKS.map((yaml, index) => {
    const check = waitsForAnthropic(yaml) ? 'is refused only for its prefix until the provider exists' : 'validates and compiles with no problem';
    return [index + 1, prefixes(yaml).join(', '), check, yaml] as const;
  });

  it.each(cases)('block %i (%s) %s', (_n, _prefixes, _check, yaml) => {
    if (waitsForAnthropic(yaml)) {
      // Until the provider exists, the only thing wrong with the block may be its prefix.
      let refusal: unknown;
      try {
        parseGatewayConfig(yaml, 'README.md');
      } catch (error) {
        refusal = error;
      }
      expect(refusal).toBeInstanceOf(ConfigValidationError);
      for (const issue of (refusal as ConfigValidationError).issues) expect(issue.message).toMatch(/^provider `anthropic` is not supported/);
      return;
    }
    const { config, warnings } = parseGatewayConfig(yaml, 'README.md');
    expect(warnings).toEqual([]);
    expect(config.modelList.length).toBeGreaterThan(0);
    const tableWarnings: string[] = [];
    const table = new DeploymentTable(config.modelList, { env: dummyEnv(yaml), pools: false, onWarning: (message) => tableWarnings.push(message) });
    expect(tableWarnings).toEqual([]);
    for (const deployment of config.modelList) expect(table.group(deployment.model_name)?.deployments.length).toBeGreaterThan(0);
  });
});
