'use strict';
// Starts the built gateway (dist/src/main.js) as the process under test, the way production runs it, with a
// config.yaml of its own in a temp dir, and makes the virtual keys the scenarios use through the API.
const { generateKeyPairSync, randomBytes } = require('node:crypto');
const { existsSync, mkdirSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { freePort, startProcess, waitForHttp } = require('./processes');

const ROOT = join(__dirname, '..', '..');
const MAIN_JS = join(ROOT, 'dist', 'src', 'main.js');
const MODEL = 'bench-gpt';
/** Scenario 12: the same mock answering in Anthropic's Messages API, behind the `anthropic/` provider. */
const ANTHROPIC_MODEL = 'bench-claude';

/** Whether a build has the Anthropic provider (older builds, compared in bench/ab.js, refuse the prefix at start-up). */
function hasAnthropicProvider(mainJs) {
  return existsSync(join(dirname(mainJs), 'completions', 'providers', 'anthropic', 'anthropic.provider.js'));
}

/** A service account that parses like a real one; the GCS emulator endpoint never asks for a token. */
function serviceAccountJson() {
  const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return JSON.stringify({
    type: 'service_account',
    project_id: 'gatehouse-bench',
    private_key_id: randomBytes(20).toString('hex'),
    private_key: privateKey,
    client_email: 'bench-logger@gatehouse-bench.iam.gserviceaccount.com',
    client_id: '100000000000000000000',
  });
}

function configYaml({ teamId, mockPort, sinkPort, langfusePort, anthropic }) {
  const anthropicEntry = `  - model_name: ${ANTHROPIC_MODEL}
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_base: http://127.0.0.1:${mockPort}
      api_key: os.environ/BENCH_UPSTREAM_KEY
`;
  return `# Written by bench/run.js
model_list:
  - model_name: ${MODEL}
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: http://127.0.0.1:${mockPort}/v1
      api_key: os.environ/BENCH_UPSTREAM_KEY
    model_info:
      input_cost_per_token: 0.00000015
      output_cost_per_token: 0.0000006
${anthropic ? anthropicEntry : ''}
litellm_settings:
  default_team_settings:
    - team_id: ${teamId}
      success_callback: ["langfuse", "gcs_bucket", "otel"]
      langfuse_public_key: pk-lf-bench
      langfuse_secret: os.environ/BENCH_LANGFUSE_SECRET
      langfuse_host: http://127.0.0.1:${langfusePort}
      gcs_bucket_name: bench-logs/gatehouse
      gcs_service_account_json: os.environ/BENCH_GCS_SERVICE_ACCOUNT
      otel_endpoint: http://127.0.0.1:${sinkPort}
      otel_service_name: gatehouse-bench

general_settings:
  allowed_logging_hosts: ["127.0.0.1"]
`;
}

async function api(baseUrl, key, method, path, body) {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

/**
 * Starts one gateway. `label` names its temp dir; `langfuseDown` points its Langfuse destination at the sink's
 * port that answers 503. Options: databaseUrl, nodeArgs (e.g. --cpu-prof), mainJs (another build), node (another
 * Node binary), tmpDir, ports, extraConfig (YAML sections appended to config.yaml), extraEnv (more environment).
 * Resolves { proc, baseUrl, masterKey, keys: { loggingOn, loggingOff } }.
 */
async function startGatehouse({ label, tmpDir, mockPort, sinkPort, sinkDownPort, langfuseDown = false, databaseUrl, nodeArgs = [], mainJs = MAIN_JS, node = process.execPath, extraConfig = '', extraEnv = {} }) {
  const dir = join(tmpDir, label);
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'config.yaml');
  // One team per gateway: with a shared DATABASE_URL the two gateways' outbox entries stay distinguishable.
  const teamId = `bench-team-${label}`;
  const anthropic = hasAnthropicProvider(mainJs);
  writeFileSync(configFile, configYaml({ teamId, mockPort, sinkPort, langfusePort: langfuseDown ? sinkDownPort : sinkPort, anthropic }) + extraConfig);
  const port = await freePort();
  const masterKey = `sk-${randomBytes(32).toString('base64url')}`;
  const env = {};
  for (const name of ['PATH', 'HOME', 'LANG', 'TZ']) if (process.env[name]) env[name] = process.env[name];
  Object.assign(env, {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(port),
    MASTER_KEY: masterKey,
    SALT_KEY: randomBytes(32).toString('base64url'),
    CONFIG_FILE: configFile,
    DATA_DIR: join(dir, 'data'),
    LOG_SHUTDOWN_GRACE_MS: '1000',
    STORAGE_EMULATOR_HOST: `http://127.0.0.1:${sinkPort}`,
    // Keep google-auth-library on loopback even if something asked it for ambient credentials.
    GCE_METADATA_HOST: '127.0.0.1:9',
    METADATA_SERVER_DETECTION: 'none',
    BENCH_UPSTREAM_KEY: 'sk-bench-upstream',
    BENCH_LANGFUSE_SECRET: `sk-lf-${randomBytes(12).toString('hex')}`,
    BENCH_GCS_SERVICE_ACCOUNT: serviceAccountJson(),
  });
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  Object.assign(env, extraEnv);
  const proc = startProcess(`gatehouse (${label})`, node, [...nodeArgs, mainJs], { env, cwd: dir });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(proc, `${baseUrl}/health/readiness`, 180_000);
  const loggingOn = await api(baseUrl, masterKey, 'POST', '/key/generate', { team_id: teamId, key_alias: `${label}-logging-on` });
  const loggingOff = await api(baseUrl, masterKey, 'POST', '/key/generate', {
    team_id: teamId,
    key_alias: `${label}-logging-off`,
    metadata: { logging: [] },
  });
  // Scenario 6: the response cache on, logging off. A build without the cache refuses the metadata or ignores it;
  // either way the benchmark finds out (sanity check: hits must not reach the upstream).
  let cacheOn = null;
  let cacheError = null;
  try {
    cacheOn = (await api(baseUrl, masterKey, 'POST', '/key/generate', { team_id: teamId, key_alias: `${label}-cache-on`, metadata: { logging: [], cache: true } })).key;
  } catch (error) {
    cacheError = error.message;
  }
  return { proc, baseUrl, masterKey, teamId, anthropic, keys: { loggingOn: loggingOn.key, loggingOff: loggingOff.key, cacheOn }, cacheError };
}

module.exports = { startGatehouse, serviceAccountJson, MAIN_JS, ROOT, MODEL, ANTHROPIC_MODEL };
