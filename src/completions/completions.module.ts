import { Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BudgetsModule } from '../budgets/budgets.module';
import { ResponseCacheModule } from '../cache/response-cache.module';
import { RateLimitsModule } from '../rate-limits/rate-limits.module';
import { GatewaySettings } from '../config/gateway-settings';
import { LoggingModule } from '../logging/logging.module';
import { CompletionsController } from './completions.controller';
import { ModelInfoController } from './model-info.controller';
import { CompletionsService } from './completions.service';
import { ResponseOwnerRow } from './responses-api/response-owner.entity';
import { ResponseOwners } from './responses-api/response-owners';
import { ResponsesService } from './responses-api/responses.service';
import { DeploymentTable } from './deployment-table';
import { ModelRouter } from './router/model-router';

@Module({
  imports: [LoggingModule, ResponseCacheModule, BudgetsModule, RateLimitsModule, TypeOrmModule.forFeature([ResponseOwnerRow])],
  controllers: [CompletionsController, ModelInfoController],
  providers: [
    {
      provide: DeploymentTable,
      inject: [GatewaySettings],
      // The table (and its api keys, resolved from the environment) is compiled once at boot.
      useFactory: (settings: GatewaySettings) => {
        const logger = new Logger('Completions');
        const router = settings.config.routerSettings;
        return new DeploymentTable(settings.config.modelList, {
          env: process.env,
          aliases: settings.config.modelGroupAlias,
          onWarning: (message) => logger.warn(message),
          defaultTimeoutSeconds: router?.timeout,
          defaultStreamTimeoutSeconds: router?.stream_timeout,
        });
      },
    },
    ModelRouter,
    CompletionsService,
    ResponsesService,
    ResponseOwners,
  ],
  exports: [CompletionsService, DeploymentTable],
})
export class CompletionsModule {}
