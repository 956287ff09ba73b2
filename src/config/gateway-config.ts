import { readFileSync } from 'node:fs';
import * as nodePath from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { readEnvironmentVariables } from './config-file/environment-variables';
import { checkTeamSettingsReferences } from './config-file/logging-references';
import { emptyGeneralSettings, readGeneralSettings } from './config-file/general-settings';
import { readModelGroupAliases, readRouterSettings } from './config-file/router-settings';
import { reportMisplaced, TOP_LEVEL_IGNORED, TOP_LEVEL_USED } from './config-file/known-keys';
import { emptyLitellmSettings, readLitellmSettings } from './config-file/litellm-settings';
import { readCredentialList } from './config-file/credential-list';
import { readModelList } from './config-file/model-list';
import { describeKind, isMapping, Issues, PositionIndex, pyYamlCompatibleTags, reportUnknownKey } from './config-file/problems';
import { DEFAULT_CONFIG_FILE } from './environment';
import type { ConfigIssue, GatewayConfig } from './gateway-config.types';

export { KNOWN_CALLBACK_VARS, KNOWN_CONFIG_KEYS } from './config-file/known-keys';

/*
 * Reading config.yaml: this file is the entry point (load, parse, the top level); each section has its module in
 * config-file/, all reporting into one problem collector so a file's every problem is listed at once.
 */

export interface LoadedGatewayConfig {
  readonly config: GatewayConfig;
  /** Non-fatal findings (ignored LiteLLM settings, unknown keys): log them at boot. */
  readonly warnings: ConfigIssue[];
}

export interface LoadGatewayConfigOptions {
  /**
   * Whether the operator named this file (CONFIG_FILE or `--config`). A named file must exist; a missing default
   * file means an env-only start. Defaults to true when a path is given and false for null.
   */
  readonly explicit?: boolean;
  /** Base for a relative path; defaults to the working directory. */
  readonly cwd?: string;
}

/** Thrown when config.yaml cannot be used. The message lists every fatal issue, one per line. */
export class ConfigValidationError extends Error {
  constructor(
    readonly source: string | null,
    readonly issues: ConfigIssue[],
    readonly warnings: ConfigIssue[] = [],
  ) {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    const lines = issues.map((issue) => `  ${formatConfigIssue(issue, source)}`);
    super(`Invalid configuration file ${source ?? DEFAULT_CONFIG_FILE} (${count}):\n${lines.join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

/** `config.yaml:12  litellm_settings.success_callbacks: message`, the form used for errors and for warnings. */
export function formatConfigIssue(issue: ConfigIssue, source: string | null): string {
  const file = source === null ? nodePath.basename(DEFAULT_CONFIG_FILE) : nodePath.basename(source);
  const where = issue.line === null ? file : `${file}:${issue.line}`;
  return issue.path === '' ? `${where}  ${issue.message}` : `${where}  ${issue.path}: ${issue.message}`;
}

export function loadGatewayConfig(path: string | null, options: LoadGatewayConfigOptions = {}): LoadedGatewayConfig {
  const explicit = options.explicit ?? path !== null;
  const absolute = nodePath.resolve(options.cwd ?? process.cwd(), path ?? DEFAULT_CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) {
      const message = `no config file at ${absolute}: starting with no models (set CONFIG_FILE or --config to use one)`;
      return { config: emptyConfig(null), warnings: [{ path: '', line: null, message }] };
    }
    const message = code === 'ENOENT' ? 'file not found' : `cannot read the file (${(error as Error).message})`;
    throw new ConfigValidationError(absolute, [{ path: '', line: null, message }]);
  }
  return parseGatewayConfig(text, absolute);
}

/**
 * Parses and validates config.yaml text. Values are kept as written (an `os.environ/NAME` string stays a
 * reference); the only rewrites are LiteLLM's own defaults: a bare model gets `openai/`, a single callback string
 * becomes a list, and each deployment gets a stable `model_info.id`.
 */
export function parseGatewayConfig(text: string, source: string | null): LoadedGatewayConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    // YAML 1.1, because LiteLLM reads config.yaml with PyYAML: `cache: yes` is a boolean and `<<:` merges there.
    version: '1.1',
    prettyErrors: false,
    uniqueKeys: true,
    customTags: pyYamlCompatibleTags,
  });
  const positions = new PositionIndex(doc, lineCounter);
  const issues = new Issues(positions);

  let syntaxBroken = false;
  for (const error of doc.errors) {
    // PyYAML keeps the last of two equal keys without a word; the first one's setting would be lost unseen.
    const message = error.code === 'DUPLICATE_KEY' ? 'this key appears twice in the same mapping (LiteLLM would silently keep only the last one): remove one' : error.message;
    issues.error(positions.pathAt(error.pos[0]) ?? '', message, lineCounter.linePos(error.pos[0]).line);
    syntaxBroken ||= error.code !== 'DUPLICATE_KEY';
  }
  for (const warning of doc.warnings) {
    issues.warn(positions.pathAt(warning.pos[0]) ?? '', warning.message, lineCounter.linePos(warning.pos[0]).line);
  }
  for (const offset of positions.unresolvedAliases) {
    issues.error('', 'alias refers to an anchor that is not defined before it', lineCounter.linePos(offset).line);
    syntaxBroken = true;
  }
  // Checking the keys of a half-parsed document would only bury the real error under follow-on noise.
  if (syntaxBroken) {
    throw new ConfigValidationError(source, issues.sortedErrors(), issues.sortedWarnings());
  }

  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ConfigValidationError(source, [{ path: '', line: null, message: (error as Error).message }]);
  }
  const config = readRoot(issues, root, source);
  if (issues.errors.length > 0) {
    throw new ConfigValidationError(source, issues.sortedErrors(), issues.sortedWarnings());
  }
  return { config, warnings: issues.sortedWarnings() };
}

// Sections

function emptyConfig(source: string | null): GatewayConfig {
  return {
    source,
    modelList: [],
    litellmSettings: emptyLitellmSettings(),
    generalSettings: emptyGeneralSettings(),
    environmentVariables: {},
    modelGroupAlias: {},
  };
}

const ALL_TOP_LEVEL: readonly string[] = [...TOP_LEVEL_USED, ...TOP_LEVEL_IGNORED];

function readRoot(issues: Issues, root: unknown, source: string | null): GatewayConfig {
  if (root === null || root === undefined) {
    return emptyConfig(source);
  }
  if (!isMapping(root)) {
    issues.error('', `the file must be a mapping of sections (model_list, litellm_settings, ...), got ${describeKind(root)}`);
    return emptyConfig(source);
  }
  for (const key of Object.keys(root)) {
    if ((TOP_LEVEL_USED as readonly string[]).includes(key)) {
      continue;
    }
    if (key === 'include') {
      issues.warn(key, 'LiteLLM `include` is not supported by Gatehouse: the listed files are NOT read');
    } else if ((TOP_LEVEL_IGNORED as readonly string[]).includes(key)) {
      issues.warn(key, 'LiteLLM section not used by Gatehouse; ignored');
    } else if (!reportMisplaced(issues, key, key, 'top level')) {
      reportUnknownKey(issues, key, key, ALL_TOP_LEVEL, 'the top level');
    }
  }
  const litellmSettings = readLitellmSettings(issues, root.litellm_settings);
  const config: GatewayConfig = {
    source,
    modelList: readModelList(issues, root.model_list, readCredentialList(issues, root.credential_list)),
    litellmSettings,
    generalSettings: readGeneralSettings(issues, root.general_settings),
    environmentVariables: readEnvironmentVariables(issues, root.environment_variables),
    modelGroupAlias: readModelGroupAliases(issues, root),
    routerSettings: readRouterSettings(issues, root.router_settings, litellmSettings.other),
  };
  checkTeamSettingsReferences(issues, root, config);
  return config;
}

/**
 * A setting written in the wrong section. For a setting Gatehouse acts on this is fatal, because the operator
 * believes it is in force (a `master_key` under litellm_settings would leave the proxy without one).
 */
