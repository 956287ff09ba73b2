import { BudgetsModule } from '../budgets/budgets.module';
import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { LoggingModule } from '../logging/logging.module';
import { TeamsModule } from '../teams/teams.module';
import { ApiKeyGuard } from './api-key.guard';
import { VirtualKey } from './key.entity';
import { KeysController } from './keys.controller';
import { KeysService } from './keys.service';
import { PrincipalCache } from './principal-cache';

@Module({
  imports: [TypeOrmModule.forFeature([VirtualKey]), TeamsModule, LoggingModule, AuditModule, BudgetsModule],
  controllers: [KeysController],
  providers: [KeysService, PrincipalCache, { provide: APP_GUARD, useClass: ApiKeyGuard }],
  exports: [KeysService, PrincipalCache],
})
export class KeysModule {}
