import { BudgetsModule } from '../budgets/budgets.module';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { KeysModule } from '../keys/keys.module';
import { TeamsModule } from '../teams/teams.module';
import { User } from './user.entity';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  imports: [TypeOrmModule.forFeature([User]), KeysModule, TeamsModule, AuditModule, BudgetsModule],
  controllers: [UsersController],
  providers: [UsersService],
})
export class UsersModule {}
