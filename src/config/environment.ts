import { plainToInstance, Transform } from 'class-transformer';
import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ANY_ORIGIN, corsOriginProblems } from './cors-origins';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  validateSync,
  ValidationError,
} from 'class-validator';
import { readTracingSettings, type TracingSettings } from '../tracing/tracing-settings';

export const RATE_LIMIT_HEADER_MODES = ['openai', 'litellm', 'none'] as const;
export type RateLimitHeaderMode = (typeof RATE_LIMIT_HEADER_MODES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const DEFAULT_CONFIG_FILE = './config.yaml';

/** Variables whose values must never appear in an error message. */
const SECRET_VARIABLES = new Set(['MASTER_KEY', 'SALT_KEY', 'SALT_KEY_PREVIOUS', 'DATABASE_URL', 'REDIS_URL', 'REDIS_PASSWORD']);

/**
 * Digits only: `Number()` would turn '' into 0 and '0x10' into 16, and a mistyped PORT should fail loudly instead.
 * Anything else is left as the string so the integer check rejects it with the variable's name.
 */
function toInteger({ value }: { value: unknown }): unknown {
  return typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
}

/** LiteLLM's docs write `REDIS_SSL="True"`; anything but a clear yes or no is left for the boolean check to refuse. */
function toBoolean({ value }: { value: unknown }): unknown {
  if (typeof value !== 'string') return value;
  const word = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(word)) return true;
  if (['false', '0', 'no', 'off'].includes(word)) return false;
  return value;
}

/** Process settings, read once at boot. Everything else gets them from here, never from `process.env`. */
export class Environment {
  @Transform(toInteger)
  @IsInt({ message: 'PORT must be an integer between 0 and 65535' })
  @Min(0, { message: 'PORT must be an integer between 0 and 65535' })
  @Max(65535, { message: 'PORT must be an integer between 0 and 65535' })
  readonly PORT: number = 4000;

  /**
   * Where to listen. Unset means every interface, except with a weak master key: then loopback only (see
   * `listenHost` in bootstrap.ts), so the docs' `sk-1234` never guards a reachable gateway by accident.
   */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  readonly HOST?: string;

  /** Embedded database files and other local state when no DATABASE_URL is given. */
  @IsString()
  @IsNotEmpty()
  readonly DATA_DIR: string = './.data';

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// or postgresql:// URL' })
  readonly DATABASE_URL?: string;

  /** Redis shared by all instances (response cache, cross-instance invalidation); may carry a password, so never echoed. */
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  readonly REDIS_URL?: string;

  /** LiteLLM's other spelling of the same Redis (see `environmentRedis`); REDIS_URL wins when both are set. */
  @IsOptional()
  @Matches(/^(?!.*:\/\/)\S+$/, { message: 'REDIS_HOST must be a host name or IP address (a redis:// URL goes in REDIS_URL)' })
  readonly REDIS_HOST?: string;

  @IsOptional()
  @Transform(toInteger)
  @IsInt({ message: 'REDIS_PORT must be an integer between 1 and 65535' })
  @Min(1, { message: 'REDIS_PORT must be an integer between 1 and 65535' })
  @Max(65535, { message: 'REDIS_PORT must be an integer between 1 and 65535' })
  readonly REDIS_PORT?: number;

  @IsOptional()
  @IsString()
  readonly REDIS_USERNAME?: string;

  @IsOptional()
  @IsString()
  readonly REDIS_PASSWORD?: string;

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'REDIS_SSL must be true or false' })
  readonly REDIS_SSL?: boolean;

  /**
   * The request loop's pool on a real server (the embedded database always runs with one connection). With the
   * delivery thread's 2 and the LISTEN connection, an instance holds at most DB_POOL_SIZE + 3 (README, "Connections").
   */
  @Transform(toInteger)
  @IsInt({ message: 'DB_POOL_SIZE must be an integer between 1 and 1000' })
  @Min(1, { message: 'DB_POOL_SIZE must be an integer between 1 and 1000' })
  @Max(1000, { message: 'DB_POOL_SIZE must be an integer between 1 and 1000' })
  readonly DB_POOL_SIZE: number = 3;

  /** MASTER_KEY, else LITELLM_MASTER_KEY (the name LiteLLM deployments already set). */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  readonly MASTER_KEY?: string;

  @IsString()
  @IsNotEmpty()
  readonly CONFIG_FILE: string = DEFAULT_CONFIG_FILE;

  /**
   * Whether CONFIG_FILE came from the environment or `--config`: a file the operator named must exist, while a
   * missing default file just means an env-only start.
   */
  readonly configFileExplicit: boolean = false;

  /** SALT_KEY, else LITELLM_SALT_KEY. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  readonly SALT_KEY?: string;

  /**
   * SALT_KEY_PREVIOUS, else LITELLM_SALT_KEY_PREVIOUS (LiteLLM's name): comma-separated keys that sealed stored
   * secrets before a rotation — old salt keys, or the old master key of a gateway that ran without SALT_KEY. Used
   * only to decrypt, until `POST /secrets/reencrypt` has re-encrypted everything with the current key.
   */
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.split(',').map((item) => item.trim()) : value))
  @IsArray()
  @IsString({ each: true })
  @IsNotEmpty({ each: true, message: 'SALT_KEY_PREVIOUS must be a comma-separated list of keys without empty items' })
  readonly SALT_KEY_PREVIOUS: readonly string[] = [];

  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsIn(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })
  readonly LOG_LEVEL: LogLevel = 'info';

  /** `pretty` for people, `json` for machines; unset: pretty when stdout is a terminal, else JSON (see `resolveLogFormat`). */
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsIn(LOG_FORMATS, { message: `LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')}` })
  readonly LOG_FORMAT?: LogFormat;

  @Transform(toInteger)
  @IsInt({ message: 'MAX_REQUEST_BODY_BYTES must be a positive integer' })
  @Min(1, { message: 'MAX_REQUEST_BODY_BYTES must be a positive integer' })
  readonly MAX_REQUEST_BODY_BYTES: number = 10 * 1024 * 1024;

  /**
   * How deeply a JSON body may nest objects and arrays. 128 is several times what a real body needs (a chat
   * body with a tool schema nested 20 levels, each an array of objects, is about 65 deep) and far below where
   * recursion over the parsed body runs out of stack (about 3,500 levels). Above 1,000 that margin is gone.
   */
  @Transform(toInteger)
  @IsInt({ message: 'MAX_REQUEST_JSON_DEPTH must be an integer between 16 and 1000' })
  @Min(16, { message: 'MAX_REQUEST_JSON_DEPTH must be an integer between 16 and 1000' })
  @Max(1000, { message: 'MAX_REQUEST_JSON_DEPTH must be an integer between 16 and 1000' })
  readonly MAX_REQUEST_JSON_DEPTH: number = 128;

  /**
   * How many members one JSON object or array of a body may have. 100,000 is 12 times the largest array a
   * real body carries (an embedding input of 8,191 tokens; a conversation of thousands of messages) and
   * bounds the per-element work of one container.
   */
  @Transform(toInteger)
  @IsInt({ message: 'MAX_REQUEST_JSON_MEMBERS must be an integer between 100 and 10000000' })
  @Min(100, { message: 'MAX_REQUEST_JSON_MEMBERS must be an integer between 100 and 10000000' })
  @Max(10_000_000, { message: 'MAX_REQUEST_JSON_MEMBERS must be an integer between 100 and 10000000' })
  readonly MAX_REQUEST_JSON_MEMBERS: number = 100_000;

  @Transform(toInteger)
  @IsInt({ message: 'SHUTDOWN_GRACE_MS must be a non-negative integer' })
  @Min(0, { message: 'SHUTDOWN_GRACE_MS must be a non-negative integer' })
  readonly SHUTDOWN_GRACE_MS: number = 10000;

  @IsOptional()
  @IsUrl(
    { require_protocol: true, protocols: ['http', 'https'], require_tld: false },
    { message: 'LANGFUSE_HOST must be an http(s) URL' },
  )
  readonly LANGFUSE_HOST?: string;

  /** A GCS emulator (e.g. fake-gcs-server): the GCS destination talks to it without credentials. */
  @IsOptional()
  @IsUrl(
    { require_protocol: true, protocols: ['http', 'https'], require_tld: false },
    { message: 'STORAGE_EMULATOR_HOST must be an http(s) URL' },
  )
  readonly STORAGE_EMULATOR_HOST?: string;

  /**
   * The directory whose files the proxy admin may name as `gcs_path_service_account` through the API; without it,
   * file paths from the API are refused. Checked at boot and kept as its real path (symbolic links resolved).
   */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  readonly GCS_SERVICE_ACCOUNT_DIR?: string;

  /** How often buffered log events are sent to their destinations. */
  @Transform(toInteger)
  @IsInt({ message: 'LOG_FLUSH_INTERVAL_MS must be an integer between 10 and 60000' })
  @Min(10, { message: 'LOG_FLUSH_INTERVAL_MS must be an integer between 10 and 60000' })
  @Max(60000, { message: 'LOG_FLUSH_INTERVAL_MS must be an integer between 10 and 60000' })
  readonly LOG_FLUSH_INTERVAL_MS: number = 1000;

  /** How often the spend ledger writes accumulated spend to the database and re-reads the spend of budgeted entities. */
  @Transform(toInteger)
  @IsInt({ message: 'SPEND_FLUSH_INTERVAL_MS must be an integer between 10 and 60000' })
  @Min(10, { message: 'SPEND_FLUSH_INTERVAL_MS must be an integer between 10 and 60000' })
  @Max(60000, { message: 'SPEND_FLUSH_INTERVAL_MS must be an integer between 10 and 60000' })
  readonly SPEND_FLUSH_INTERVAL_MS: number = 1000;

  /** How often the budget reset job looks for budget periods that are over. */
  @Transform(toInteger)
  @IsInt({ message: 'BUDGET_RESET_INTERVAL_MS must be an integer between 100 and 3600000' })
  @Min(100, { message: 'BUDGET_RESET_INTERVAL_MS must be an integer between 100 and 3600000' })
  @Max(3600000, { message: 'BUDGET_RESET_INTERVAL_MS must be an integer between 100 and 3600000' })
  readonly BUDGET_RESET_INTERVAL_MS: number = 10000;

  /** How often new events are handed to delivery and unacknowledged ones written to the outbox: two of these bound what a SIGKILL can lose. */
  @Transform(toInteger)
  @IsInt({ message: 'OUTBOX_WRITE_INTERVAL_MS must be an integer between 10 and 10000' })
  @Min(10, { message: 'OUTBOX_WRITE_INTERVAL_MS must be an integer between 10 and 10000' })
  @Max(10000, { message: 'OUTBOX_WRITE_INTERVAL_MS must be an integer between 10 and 10000' })
  readonly OUTBOX_WRITE_INTERVAL_MS: number = 200;

  /** Longest wait between two attempts of a failing delivery. */
  @Transform(toInteger)
  @IsInt({ message: 'LOG_RETRY_MAX_BACKOFF_MS must be a positive integer' })
  @Min(1, { message: 'LOG_RETRY_MAX_BACKOFF_MS must be a positive integer' })
  readonly LOG_RETRY_MAX_BACKOFF_MS: number = 60_000;

  /** A rejected event (400/401/403, bad settings) is dead-lettered after this many attempts... */
  @Transform(toInteger)
  @IsInt({ message: 'LOG_MAX_ATTEMPTS must be a positive integer' })
  @Min(1, { message: 'LOG_MAX_ATTEMPTS must be a positive integer' })
  readonly LOG_MAX_ATTEMPTS: number = 8;

  /** ...and any undelivered event once it is this old. */
  @Transform(toInteger)
  @IsInt({ message: 'LOG_DEAD_LETTER_AFTER_MS must be a positive integer' })
  @Min(1, { message: 'LOG_DEAD_LETTER_AFTER_MS must be a positive integer' })
  readonly LOG_DEAD_LETTER_AFTER_MS: number = 24 * 3_600_000;

  /** On SIGTERM, how long pending events are still sent before the rest is left in the outbox for the next start. */
  @Transform(toInteger)
  @IsInt({ message: 'LOG_SHUTDOWN_GRACE_MS must be a non-negative integer' })
  @Min(0, { message: 'LOG_SHUTDOWN_GRACE_MS must be a non-negative integer' })
  readonly LOG_SHUTDOWN_GRACE_MS: number = 10_000;

  /** Time a send may take before the destination counts as failing (a hanging destination is cut off). */
  @Transform(toInteger)
  @IsInt({ message: 'LOG_SEND_TIMEOUT_MS must be a positive integer' })
  @Min(1, { message: 'LOG_SEND_TIMEOUT_MS must be a positive integer' })
  readonly LOG_SEND_TIMEOUT_MS: number = 10_000;

  /**
   * How long a claimed outbox row belongs to the instance that claimed it. If that instance dies, other
   * instances deliver the row once the lease has run out. Must exceed LOG_SEND_TIMEOUT_MS.
   */
  @Transform(toInteger)
  @IsInt({ message: 'LOG_CLAIM_LEASE_MS must be a positive integer' })
  @Min(1, { message: 'LOG_CLAIM_LEASE_MS must be a positive integer' })
  readonly LOG_CLAIM_LEASE_MS: number = 60_000;

  /** LiteLLM's name: the length of a rate-limit window in seconds (rpm and tpm count per window). */
  @Transform(toInteger)
  @IsInt({ message: 'LITELLM_RATE_LIMIT_WINDOW_SIZE must be an integer between 1 and 86400 (seconds)' })
  @Min(1, { message: 'LITELLM_RATE_LIMIT_WINDOW_SIZE must be an integer between 1 and 86400 (seconds)' })
  @Max(86_400, { message: 'LITELLM_RATE_LIMIT_WINDOW_SIZE must be an integer between 1 and 86400 (seconds)' })
  readonly LITELLM_RATE_LIMIT_WINDOW_SIZE: number = 60;

  /**
   * The `x-ratelimit-*` headers of a limited call that is let through: `openai` the four OpenAI SDKs read (the
   * tightest of the call's limits), `litellm` also LiteLLM's per-descriptor ones (up to two dozen headers, ~8 % of a
   * call's CPU), `none`. A refused call always carries LiteLLM's full set.
   */
  @IsIn(RATE_LIMIT_HEADER_MODES, { message: `RATE_LIMIT_HEADERS must be one of ${RATE_LIMIT_HEADER_MODES.join(', ')}` })
  readonly RATE_LIMIT_HEADERS: RateLimitHeaderMode = 'openai';

  /**
   * CORS_ORIGINS, else LITELLM_CORS_ORIGINS (LiteLLM's name): the origins whose browser scripts may call the gateway,
   * comma-separated, or `*` for every origin (LiteLLM's default). Lower case, as browsers send them; blank items
   * (a trailing comma) are skipped, as LiteLLM does.
   */
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.split(',').map((item) => item.trim().toLowerCase()).filter((item) => item !== '') : value,
  )
  @IsArray()
  @IsString({ each: true })
  readonly CORS_ORIGINS: readonly string[] = [ANY_ORIGIN];

  /**
   * CORS_ALLOW_CREDENTIALS, else LITELLM_CORS_ALLOW_CREDENTIALS: `Access-Control-Allow-Credentials: true`. Unset, it
   * follows LiteLLM: on with a list of origins, off with `*` (browsers refuse credentials with `*`, so `true` with
   * `*` stops start-up).
   */
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'CORS_ALLOW_CREDENTIALS must be true or false' })
  readonly CORS_ALLOW_CREDENTIALS?: boolean;

  /** Whether browsers may send credentials, once CORS_ALLOW_CREDENTIALS and CORS_ORIGINS are taken together. */
  get corsAllowCredentials(): boolean {
    return this.CORS_ALLOW_CREDENTIALS ?? !this.CORS_ORIGINS.includes(ANY_ORIGIN);
  }

  /** `/metrics` without a key, for scrapers (LiteLLM serves it so); otherwise the proxy admin's only. */
  @Transform(toBoolean)
  @IsBoolean({ message: 'METRICS_PUBLIC must be true or false' })
  readonly METRICS_PUBLIC: boolean = false;

  /** Keys (and, apart, teams) with LLM metric series of their own; later ones are counted under `other`. */
  @Transform(toInteger)
  @IsInt({ message: 'METRICS_MAX_KEY_SERIES must be an integer between 1 and 1000000' })
  @Min(1, { message: 'METRICS_MAX_KEY_SERIES must be an integer between 1 and 1000000' })
  @Max(1_000_000, { message: 'METRICS_MAX_KEY_SERIES must be an integer between 1 and 1000000' })
  readonly METRICS_MAX_KEY_SERIES: number = 1000;

  /** Model names (requested and upstream) with LLM metric series of their own; later ones read `other`. */
  @Transform(toInteger)
  @IsInt({ message: 'METRICS_MAX_MODEL_SERIES must be an integer between 1 and 100000' })
  @Min(1, { message: 'METRICS_MAX_MODEL_SERIES must be an integer between 1 and 100000' })
  @Max(100_000, { message: 'METRICS_MAX_MODEL_SERIES must be an integer between 1 and 100000' })
  readonly METRICS_MAX_MODEL_SERIES: number = 200;

  /**
   * The gateway's own traces (OpenTelemetry's standard OTEL_* variables, checked by `readTracingSettings`); null
   * unless an OTLP endpoint is set. Off, the OpenTelemetry SDK is never loaded.
   */
  readonly tracing: TracingSettings | null = null;
}

/** `--config PATH` or `--config=PATH`; the last one wins, as with most CLIs. */
export function configFileFromArgv(argv: readonly string[]): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--config') {
      const next = argv[i + 1];
      if (next === undefined || next === '' || next.startsWith('--')) {
        throw new Error('Invalid command line: --config needs a file path (--config PATH or --config=PATH)');
      }
      found = next;
      i++;
    } else if (arg.startsWith('--config=')) {
      const value = arg.slice('--config='.length);
      if (value === '') {
        throw new Error('Invalid command line: --config= needs a file path');
      }
      found = value;
    }
  }
  return found;
}

/** docker-compose's `FOO=` and `FOO: ""` mean "not set", not "set to nothing". */
function read(env: NodeJS.ProcessEnv, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') {
      return value;
    }
  }
  return undefined;
}

function describe(errors: ValidationError[], raw: Record<string, unknown>): string[] {
  return errors.map((error) => {
    const messages = Object.values(error.constraints ?? {});
    const unique = [...new Set(messages)].join('; ');
    const value = raw[error.property];
    const shown = SECRET_VARIABLES.has(error.property) || typeof value !== 'string' ? '' : ` (got ${JSON.stringify(value)})`;
    return `  ${error.property}: ${unique}${shown}`;
  });
}

/** Origins a browser would never send, and credentials a browser would refuse. */
function corsProblems(environment: Environment): string[] {
  const problems = corsOriginProblems(environment.CORS_ORIGINS).map((problem) => `  CORS_ORIGINS: ${problem}`);
  if (environment.CORS_ORIGINS.includes(ANY_ORIGIN) && environment.CORS_ALLOW_CREDENTIALS === true) {
    problems.push(
      '  CORS_ALLOW_CREDENTIALS: true needs CORS_ORIGINS to list the origins: browsers refuse credentials from a server that allows every origin (*)',
    );
  }
  return problems;
}

/** The real path of an existing directory (relative to the working directory), or why it is not one. */
function realDirectory(value: unknown): string | { problem: string } | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const real = realpathSync(resolve(value));
    return statSync(real).isDirectory() ? real : { problem: `${JSON.stringify(value)} is not a directory` };
  } catch (error) {
    return { problem: `${JSON.stringify(value)} cannot be used (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
  }
}

/**
 * Validates the process environment, fills defaults and applies `--config`. Throws one Error that lists every bad
 * variable, so an operator fixes them all in one go. `argv` is the arguments after the script name; it is not read
 * from `process.argv` here because test runners put their own `--config` there.
 */
export function loadEnvironment(env: NodeJS.ProcessEnv, argv: readonly string[] = []): Environment {
  const configFromArgv = configFileFromArgv(argv);
  const configFromEnv = read(env, 'CONFIG_FILE');
  const raw: Record<string, unknown> = {
    PORT: read(env, 'PORT'),
    HOST: read(env, 'HOST'),
    DATA_DIR: read(env, 'DATA_DIR'),
    DATABASE_URL: read(env, 'DATABASE_URL'),
    DB_POOL_SIZE: read(env, 'DB_POOL_SIZE'),
    REDIS_URL: read(env, 'REDIS_URL'),
    REDIS_HOST: read(env, 'REDIS_HOST'),
    REDIS_PORT: read(env, 'REDIS_PORT'),
    REDIS_USERNAME: read(env, 'REDIS_USERNAME'),
    REDIS_PASSWORD: read(env, 'REDIS_PASSWORD'),
    REDIS_SSL: read(env, 'REDIS_SSL'),
    MASTER_KEY: read(env, 'MASTER_KEY', 'LITELLM_MASTER_KEY'),
    CONFIG_FILE: configFromArgv ?? configFromEnv,
    configFileExplicit: configFromArgv !== undefined || configFromEnv !== undefined,
    SALT_KEY: read(env, 'SALT_KEY', 'LITELLM_SALT_KEY'),
    SALT_KEY_PREVIOUS: read(env, 'SALT_KEY_PREVIOUS', 'LITELLM_SALT_KEY_PREVIOUS'),
    LOG_LEVEL: read(env, 'LOG_LEVEL'),
    LOG_FORMAT: read(env, 'LOG_FORMAT'),
    MAX_REQUEST_BODY_BYTES: read(env, 'MAX_REQUEST_BODY_BYTES'),
    MAX_REQUEST_JSON_DEPTH: read(env, 'MAX_REQUEST_JSON_DEPTH'),
    MAX_REQUEST_JSON_MEMBERS: read(env, 'MAX_REQUEST_JSON_MEMBERS'),
    SHUTDOWN_GRACE_MS: read(env, 'SHUTDOWN_GRACE_MS'),
    LANGFUSE_HOST: read(env, 'LANGFUSE_HOST'),
    STORAGE_EMULATOR_HOST: read(env, 'STORAGE_EMULATOR_HOST'),
    GCS_SERVICE_ACCOUNT_DIR: read(env, 'GCS_SERVICE_ACCOUNT_DIR'),
    LOG_FLUSH_INTERVAL_MS: read(env, 'LOG_FLUSH_INTERVAL_MS'),
    OUTBOX_WRITE_INTERVAL_MS: read(env, 'OUTBOX_WRITE_INTERVAL_MS'),
    SPEND_FLUSH_INTERVAL_MS: read(env, 'SPEND_FLUSH_INTERVAL_MS'),
    BUDGET_RESET_INTERVAL_MS: read(env, 'BUDGET_RESET_INTERVAL_MS'),
    LOG_RETRY_MAX_BACKOFF_MS: read(env, 'LOG_RETRY_MAX_BACKOFF_MS'),
    LOG_MAX_ATTEMPTS: read(env, 'LOG_MAX_ATTEMPTS'),
    LOG_DEAD_LETTER_AFTER_MS: read(env, 'LOG_DEAD_LETTER_AFTER_MS'),
    LOG_SHUTDOWN_GRACE_MS: read(env, 'LOG_SHUTDOWN_GRACE_MS'),
    LOG_SEND_TIMEOUT_MS: read(env, 'LOG_SEND_TIMEOUT_MS'),
    LOG_CLAIM_LEASE_MS: read(env, 'LOG_CLAIM_LEASE_MS'),
    LITELLM_RATE_LIMIT_WINDOW_SIZE: read(env, 'LITELLM_RATE_LIMIT_WINDOW_SIZE'),
    RATE_LIMIT_HEADERS: read(env, 'RATE_LIMIT_HEADERS'),
    CORS_ORIGINS: read(env, 'CORS_ORIGINS', 'LITELLM_CORS_ORIGINS'),
    CORS_ALLOW_CREDENTIALS: read(env, 'CORS_ALLOW_CREDENTIALS', 'LITELLM_CORS_ALLOW_CREDENTIALS'),
    METRICS_PUBLIC: read(env, 'METRICS_PUBLIC'),
    METRICS_MAX_KEY_SERIES: read(env, 'METRICS_MAX_KEY_SERIES'),
    METRICS_MAX_MODEL_SERIES: read(env, 'METRICS_MAX_MODEL_SERIES'),
  };
  const tracing = readTracingSettings(env);
  if (tracing.settings !== null) raw.tracing = tracing.settings;
  // Unset variables are left out entirely so the class's field initialisers supply the defaults.
  const present = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined));
  const directory = realDirectory(present.GCS_SERVICE_ACCOUNT_DIR);
  if (typeof directory === 'string') present.GCS_SERVICE_ACCOUNT_DIR = directory;
  const environment = plainToInstance(Environment, present);
  const errors = validateSync(environment, { forbidUnknownValues: true });
  const problems = [...describe(errors, present), ...tracing.problems];
  if (directory !== undefined && typeof directory !== 'string') problems.push(`  GCS_SERVICE_ACCOUNT_DIR: ${directory.problem}`);
  problems.push(...corsProblems(environment));
  if (problems.length > 0) {
    throw new Error(`Invalid environment:\n${problems.join('\n')}`);
  }
  return environment;
}
