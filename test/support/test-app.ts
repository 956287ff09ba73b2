import type { ModuleMetadata } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { AddressInfo } from 'node:net';
import type { DestinationStream } from 'pino';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { closeGracefully, configureApp } from '../../src/bootstrap';
import { createRootLogger, PinoNestLogger } from '../../src/common/app-logger';
import { SecretRedactor } from '../../src/common/secret-redactor';
import { loadEnvironment, type LogFormat } from '../../src/config/environment';
import { parseGatewayConfig } from '../../src/config/gateway-config';
import { GatewaySettings } from '../../src/config/gateway-settings';
import { TeamsService } from '../../src/teams/teams.service';

export const TEST_MASTER_KEY = 'sk-test-master-key-0123456789abcdefghijklmnop';

export interface TestAppOptions {
  /** config.yaml text; parsed by the real loader. */
  configYaml?: string;
  masterKey?: string;
  /** Extra environment for loadEnvironment (DATABASE_URL always comes from the test database). */
  env?: Record<string, string>;
  /** Swap providers, e.g. a recording LoggingService. */
  override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
  extraImports?: ModuleMetadata['imports'];
  /** Receives the JSON log lines (stdout in production). */
  logDestination?: DestinationStream;
  logLevel?: string;
  /** LOG_FORMAT of the lines `logDestination` receives (default json). */
  logFormat?: LogFormat;
  /** Leave the tables as they are (default: emptied, so every spec starts clean). */
  keepData?: boolean;
}

export interface TestApp {
  app: NestExpressApplication;
  settings: GatewaySettings;
  masterKey: string;
  /** http://127.0.0.1:PORT — the app listens for real, so SDKs and raw sockets can call it. */
  baseUrl: string;
  http(): TestAgent;
  dataSource: DataSource;
  close(): Promise<void>;
}

export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is not set: run e2e specs through jest (globalSetup starts the database)');
  // LOG_LEVEL follows the captured lines' level unless a spec sets it: services read it to skip debug-only work.
  const environment = loadEnvironment({ LOG_LEVEL: options.logLevel, ...options.env, DATABASE_URL: databaseUrl });
  const { config } = parseGatewayConfig(options.configYaml ?? '', null);
  const masterKey = options.masterKey ?? TEST_MASTER_KEY;
  const poolSize = Number(process.env.DB_POOL_SIZE ?? '5');
  const settings = new GatewaySettings(environment, config, masterKey, { url: databaseUrl, poolSize, embedded: poolSize === 1 });

  let builder = Test.createTestingModule({ imports: [AppModule.forRoot(settings, options.extraImports)] });
  if (options.override) builder = options.override(builder);
  const moduleRef = await builder.compile();
  const rootLogger = createRootLogger({
    level: options.logLevel ?? (options.logDestination ? 'info' : 'silent'),
    destination: options.logDestination,
    format: options.logFormat ?? 'json',
  });
  const app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: new PinoNestLogger(rootLogger, SecretRedactor.forGateway(settings, process.env)) });
  configureApp(app, { rootLogger, maxBodyBytes: environment.MAX_REQUEST_BODY_BYTES });
  const dataSource = app.get<DataSource>(getDataSourceToken());
  await app.init();
  if (!options.keepData) await resetDatabase(dataSource);
  // Config teams are upserted at bootstrap; after the reset they must exist again.
  await app.get(TeamsService).onApplicationBootstrap();
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    app,
    settings,
    masterKey,
    baseUrl: `http://127.0.0.1:${port}`,
    http: () => request(app.getHttpServer()),
    dataSource,
    close: () => closeGracefully(app),
  };
}

export async function resetDatabase(dataSource: DataSource): Promise<void> {
  const tables = dataSource.entityMetadatas.map((meta) => `"${meta.tableName}"`).join(', ');
  await dataSource.query(`TRUNCATE ${tables} CASCADE`);
}
