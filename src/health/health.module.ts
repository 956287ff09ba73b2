import { Module } from '@nestjs/common';
import { CompletionsModule } from '../completions/completions.module';
import { HealthController } from './health.controller';
import { ModelHealthController } from './model-health.controller';
import { ModelHealthService } from './model-health.service';

@Module({ imports: [CompletionsModule], controllers: [HealthController, ModelHealthController], providers: [ModelHealthService] })
export class HealthModule {}
