#!/usr/bin/env node
// Runs LiteLLM users' config.yaml files through Gatehouse's start-up checks (config validation, then the deployment
// table's dry run) and groups what starts, what is refused and why. The files are not part of Gatehouse: put them in
// a directory of your own (e.g. LiteLLM's litellm/proxy/example_config_yaml/*.yaml and its docs' config blocks) and
// pass it. Every `os.environ/NAME` they reference gets a plausible value, as do the providers' usual variables.
//
//   npm run build && node scripts/check-litellm-configs.js /tmp/litellm-configs [--verbose]
const { readdirSync, readFileSync } = require('node:fs');
const { join, basename } = require('node:path');

const dist = join(__dirname, '..', 'dist', 'src');
const { parseGatewayConfig } = require(join(dist, 'config', 'gateway-config.js'));
const { DeploymentTable } = require(join(dist, 'completions', 'deployment-table.js'));

/** What a LiteLLM deployment usually finds in its environment without naming it in the file. */
const USUAL_ENV = {
  OPENAI_API_KEY: 'sk-placeholder',
  AZURE_API_KEY: 'azure-placeholder',
  AZURE_API_BASE: 'https://example-resource.openai.azure.com',
  AZURE_API_VERSION: '2024-10-21',
  ANTHROPIC_API_KEY: 'sk-ant-placeholder',
  GROQ_API_KEY: 'gsk-placeholder',
  MISTRAL_API_KEY: 'mistral-placeholder',
  DEEPSEEK_API_KEY: 'deepseek-placeholder',
  OPENROUTER_API_KEY: 'sk-or-placeholder',
  TOGETHERAI_API_KEY: 'together-placeholder',
  FIREWORKS_API_KEY: 'fw-placeholder',
  XAI_API_KEY: 'xai-placeholder',
  PERPLEXITYAI_API_KEY: 'pplx-placeholder',
  CEREBRAS_API_KEY: 'cerebras-placeholder',
  HF_TOKEN: 'hf-placeholder',
  GEMINI_API_KEY: 'gemini-placeholder',
  AWS_ACCESS_KEY_ID: 'AKIAPLACEHOLDER',
  AWS_SECRET_ACCESS_KEY: 'placeholder',
  AWS_REGION_NAME: 'us-east-1',
  DATABASE_URL: 'postgresql://u:p@localhost:5432/db',
};

/** A value that fits the variable's name: URLs for bases and endpoints, numbers for counts, text otherwise. */
function plausible(name) {
  if (/(BASE|ENDPOINT|URL|HOST)$/.test(name)) return 'https://placeholder.example.com';
  if (/(RPM|TPM|PORT|TIMEOUT|RETRIES|TTL)$/.test(name)) return '60';
  if (/VERSION$/.test(name)) return '2024-10-21';
  if (/REGION(_NAME)?$/.test(name)) return 'us-east-1';
  return `placeholder-${name.toLowerCase()}`;
}

function envFor(text) {
  const env = { ...USUAL_ENV };
  for (const match of text.matchAll(/os\.environ\/([A-Za-z_][A-Za-z0-9_]*)/g)) env[match[1]] ??= plausible(match[1]);
  return env;
}

/** The reason without the deployment's index, name or line, so equal reasons group together. */
function normalize(message) {
  return message
    .replace(/^\S+?\.ya?ml(?::\d+)?\s+/, '')
    .replace(/model_list\[\d+\](?: \([^)]*\))?/g, 'model_list[i]')
    .replace(/\(supported: [^)]*\)/, '(supported: ...)')
    .trim();
}

function check(file) {
  const text = readFileSync(file, 'utf8');
  const env = envFor(text);
  let loaded;
  try {
    loaded = parseGatewayConfig(text, file);
  } catch (error) {
    return { stage: 'config', problems: error.issues ? error.issues.map((i) => normalize(`${i.path}: ${i.message}`)) : [normalize(error.message)] };
  }
  const warnings = [];
  try {
    const config = loaded.config;
    // As main.ts does: environment_variables fill what the environment leaves unset.
    const allEnv = { ...(config.environmentVariables ?? {}), ...env };
    new DeploymentTable(config.modelList, { env: allEnv, pools: false, onWarning: (message) => warnings.push(message) });
  } catch (error) {
    return { stage: 'deployments', problems: (error.problems ?? [error.message]).map(normalize), warnings };
  }
  return { stage: 'started', problems: [], warnings: [...loaded.warnings.map((w) => `${w.path}: ${w.message}`), ...warnings] };
}

function main() {
  const dir = process.argv[2];
  const verbose = process.argv.includes('--verbose');
  if (!dir) {
    console.error('usage: node scripts/check-litellm-configs.js <directory of config.yaml files> [--verbose]');
    process.exit(2);
  }
  const files = readdirSync(dir).filter((name) => /\.ya?ml$/.test(name)).sort();
  const started = [];
  const refused = new Map();
  const warningTexts = [];
  for (const name of files) {
    const result = check(join(dir, name));
    if (verbose) console.log(`${result.stage.padEnd(11)} ${name}${result.problems.length ? `\n    ${result.problems.join('\n    ')}` : ''}`);
    warningTexts.push(...(result.warnings ?? []).map((w) => `${name}: ${w}`));
    if (result.stage === 'started') {
      started.push(name);
      continue;
    }
    for (const problem of new Set(result.problems)) {
      refused.set(problem, [...(refused.get(problem) ?? []), basename(name)]);
    }
  }
  const refusedFiles = new Set([...refused.values()].flat());
  console.log(`${files.length} files: ${started.length} start, ${refusedFiles.size} refused`);
  console.log('\nRefused, by reason:');
  for (const [problem, names] of [...refused].sort((a, b) => b[1].length - a[1].length)) console.log(`  ${names.length}x  ${problem}\n       ${names.join(', ')}`);
  if (verbose) {
    console.log('\nStart-up warnings:');
    for (const text of warningTexts) console.log(`  ${text}`);
  }
}

main();
