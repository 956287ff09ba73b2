import { BudgetsModule } from '../budgets/budgets.module';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { LoggingModule } from '../logging/logging.module';
import { TeamCallbacksController } from './team-callbacks.controller';
import { TeamCallbacksService } from './team-callbacks.service';
import { Team } from './team.entity';
import { TeamsController } from './teams.controller';
import { TeamsService } from './teams.service';

@Module({
  imports: [TypeOrmModule.forFeature([Team]), LoggingModule, AuditModule, BudgetsModule],
  controllers: [TeamsController, TeamCallbacksController],
  providers: [TeamsService, TeamCallbacksService],
  exports: [TeamsService],
})
export class TeamsModule {}
