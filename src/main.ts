// First: may re-execute the process with V8's young generation capped, before anything else loads or runs.
import './runtime/apply-heap-flags';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { AppModule } from './app.module';
import { closeGracefully, configureApp, listenHost, resolveDatabaseUrl, resolveMasterKey, StartupError } from './bootstrap';
import { createRootLogger, PinoNestLogger, resolveLogFormat } from './common/app-logger';
import { SecretRedactor } from './common/secret-redactor';
import { EnvFileError, loadEnvFile } from './config/env-file';
import { loadEnvironment } from './config/environment';
import { ConfigValidationError, loadGatewayConfig } from './config/gateway-config';
import { GatewaySettings } from './config/gateway-settings';
import { redisEnvironmentWarnings } from './config/redis-environment';
import { DeploymentConfigError, DeploymentTable } from './completions/deployment-table';
import { DataDirError, startEmbeddedPostgres, type EmbeddedPostgres } from './database/embedded-postgres';
import { loadExtraModules } from './extra-modules';
import { describeDatabase, describeRedis } from './startup-summary';
import { semiSpaceSetting, workerHeapLimits } from './runtime/heap-flags';

async function main(): Promise<void> {
  const stdoutIsTerminal = process.stdout.isTTY === true;
  // Until the environment is read (an invalid one is reported through this logger).
  let logger: Logger = createRootLogger({ level: 'info', format: resolveLogFormat(undefined, stdoutIsTerminal) });
  let embedded: EmbeddedPostgres | null = null;
  try {
    const envFile = loadEnvFile();
    const environment = loadEnvironment(process.env, process.argv.slice(2));
    logger = createRootLogger({ level: environment.LOG_LEVEL, format: resolveLogFormat(environment.LOG_FORMAT, stdoutIsTerminal) });
    if (envFile !== null && envFile.names.length > 0) {
      logger.info(
        { env_file: envFile.path, variables: envFile.names },
        `read ${envFile.names.length} variables from ${envFile.path} (variables already in the environment keep their values)`,
      );
    }
    const semiSpace = semiSpaceSetting(process.execArgv, process.env);
    logger.debug(
      { node_flags: process.execArgv, semi_space_mb: semiSpace.megabytes, semi_space_source: semiSpace.source, worker_limits: workerHeapLimits(semiSpace) ?? null },
      `V8 young generation: semi-space ${semiSpace.megabytes === null ? "V8's default" : `${semiSpace.megabytes} MB`} (${semiSpace.source})`,
    );
    for (const warning of redisEnvironmentWarnings(environment)) logger.warn(warning);
    const { config, warnings } = loadGatewayConfig(environment.CONFIG_FILE, { explicit: environment.configFileExplicit });
    for (const warning of warnings) {
      logger.warn({ path: warning.path, line: warning.line, file: config.source }, `config: ${warning.message}`);
    }
    // LiteLLM semantics: `environment_variables` from the config file fill in variables the environment lacks.
    for (const [name, value] of Object.entries(config.environmentVariables)) process.env[name] ??= value;

    const { masterKey, weakness } = resolveMasterKey(environment, config, process.env);
    const { host, loopbackOnly } = listenHost(environment.HOST, weakness);
    if (weakness) {
      logger.warn(
        `INSECURE MASTER KEY: ${weakness}. Anyone who knows it controls this gateway. ` +
          (loopbackOnly
            ? `Listening on ${host} only, so it is reachable from this machine alone; set MASTER_KEY to a long random value ` +
              '(see README, "Master key") to listen on every interface, or set HOST to choose the address yourself.'
            : `HOST=${host} was set explicitly, so the gateway is exposed there anyway: set MASTER_KEY to a long random value ` +
              '(see README, "Master key").'),
      );
    }

    // Every deployment's problems (an unset variable, a missing credential) stop start-up here, before anything runs.
    DeploymentTable.check(config.modelList, process.env);

    const databaseUrl = resolveDatabaseUrl(environment, config, process.env);
    if (databaseUrl === null) {
      embedded = await startEmbeddedPostgres({ dataDir: environment.DATA_DIR });
      // The "listening" line names it; the socket is a detail.
      logger.debug({ data_dir: embedded.dataDir, socket: embedded.socketPath }, 'embedded PostgreSQL (PGlite) started on its private Unix socket');
    }
    const database = embedded
      ? { url: embedded.url, poolSize: 1, embedded: true }
      : { url: databaseUrl as string, poolSize: environment.DB_POOL_SIZE, embedded: false };
    const settings = new GatewaySettings(environment, config, masterKey, database);

    // Modules a deployment adds (an enterprise log destination, say): README, "Extending".
    const extraModules = await loadExtraModules(process.env.GATEHOUSE_MODULES);
    const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(settings, extraModules), {
      bodyParser: false,
      logger: new PinoNestLogger(logger, SecretRedactor.forGateway(settings, process.env)),
    });
    configureApp(app, { rootLogger: logger, maxBodyBytes: environment.MAX_REQUEST_BODY_BYTES });
    await app.listen(environment.PORT, host);
    // The one start-up line to read: where to call it and what it runs on (PORT=0 asks for any free port).
    const { port } = app.getHttpServer().address() as AddressInfo;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const configFile = config.source ?? 'none (environment only)';
    const databaseText = describeDatabase(settings.database, embedded?.dataDir ?? null);
    const redis = describeRedis(settings, process.env);
    logger.info(
      { url, config: configFile, database: databaseText, redis, models: config.modelList.length },
      `Gatehouse listening on ${url} (Swagger UI at /docs); config: ${configFile}; database: ${databaseText}; Redis: ${redis}`,
    );
    handleShutdown(app, embedded, logger, environment.SHUTDOWN_GRACE_MS);
  } catch (error) {
    const known = error instanceof EnvFileError || error instanceof StartupError || error instanceof ConfigValidationError || error instanceof DataDirError || error instanceof DeploymentConfigError;
    logger.fatal(known ? error.message : { err: error }, known ? undefined : 'start-up failed');
    // Also plainly on stderr: a person at a terminal should not have to read escaped JSON to fix a typo.
    if (known) process.stderr.write(`\n${error.message}\n\n`);
    await embedded?.stop().catch(() => undefined);
    process.exitCode = 1;
  }
}

/**
 * SIGTERM/SIGINT: stop accepting, let in-flight requests (and streams) finish within the grace period,
 * run the modules' shutdown hooks (later: flush logs), close the database, exit.
 */
function handleShutdown(app: NestExpressApplication, embedded: EmbeddedPostgres | null, logger: Logger, graceMs: number): void {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    const server = app.getHttpServer();
    const forceClose = setTimeout(() => {
      logger.warn({ grace_ms: graceMs }, 'grace period over: closing remaining connections');
      server.closeAllConnections();
    }, graceMs);
    forceClose.unref();
    closeGracefully(app)
      .then(() => embedded?.stop())
      .then(
        () => {
          logger.info('shutdown complete');
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

void main();
