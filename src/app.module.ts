import { DynamicModule, Global, Module, type ModuleMetadata } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DataSourceOptions } from 'typeorm';
import { AuditModule } from './audit/audit.module';
import { ClusterModule } from './cluster/cluster.module';
import { Clock } from './common/clock';
import { secretBoxFor } from './common/secret-box';
import { SecretRedactor } from './common/secret-redactor';
import { createValidationPipe } from './common/validation';
import { CompletionsModule } from './completions/completions.module';
import { GatewaySettings } from './config/gateway-settings';
import { dataSourceOptions, openDataSource } from './database/data-source-options';
import { HealthModule } from './health/health.module';
import { HttpExceptionFilter } from './http-exception.filter';
import { KeysModule } from './keys/keys.module';
import { LoggingModule } from './logging/logging.module';
import { SecretsModule } from './logging/secrets/secrets.module';
import { MetricsModule } from './metrics/metrics.module';
import { TeamsModule } from './teams/teams.module';
import { TracingModule } from './tracing/tracing.module';
import { UsersModule } from './users/users.module';

/** Makes the boot-time settings, and the redaction of the credentials they name, injectable everywhere by class. */
@Global()
@Module({})
class SettingsModule {
  static forRoot(settings: GatewaySettings): DynamicModule {
    return {
      module: SettingsModule,
      providers: [
        { provide: GatewaySettings, useValue: settings },
        { provide: SecretRedactor, useFactory: () => SecretRedactor.forGateway(settings, process.env) },
        Clock,
      ],
      exports: [GatewaySettings, SecretRedactor, Clock],
    };
  }
}

@Module({})
export class AppModule {
  /** `extraImports` lets enterprise builds and tests add modules without editing this file. */
  static forRoot(settings: GatewaySettings, extraImports: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        SettingsModule.forRoot(settings),
        TracingModule,
        // The validated environment, for extensions that prefer ConfigService; the process env is not re-read, and
        // `.env` was already loaded by main.ts (config/env-file.ts) before the environment was validated.
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, skipProcessEnv: true, load: [() => ({ ...settings.environment })] }),
        TypeOrmModule.forRootAsync({
          useFactory: () => dataSourceOptions({ ...settings.database, secrets: secretBoxFor(settings) }),
          dataSourceFactory: (options) => openDataSource(options as DataSourceOptions, { embedded: settings.database.embedded }),
        }),
        // First, so its routes come first in express's route list: the LLM routes are matched without first
        // testing every admin route's pattern (Nest registers routes in module discovery order).
        CompletionsModule,
        MetricsModule.forRoot(settings.environment.METRICS_PUBLIC),
        ClusterModule,
        TeamsModule,
        KeysModule,
        UsersModule,
        LoggingModule,
        SecretsModule,
        AuditModule,
        HealthModule,
        ...extraImports,
      ],
      providers: [
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
      ],
    };
  }
}
