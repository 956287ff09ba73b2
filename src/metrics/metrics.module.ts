import { DynamicModule, Global, Injectable, Module, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { GatewaySettings } from '../config/gateway-settings';
import { LlmMetrics } from './llm-metrics';
import { metricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { startProcessMetrics } from './process-metrics';

/** The `process_*` and `nodejs_*` metrics of the main thread's app, stopped when the app closes. */
@Injectable()
class ProcessMetrics implements OnModuleInit, OnModuleDestroy {
  private running: { stop(): void } | null = null;

  constructor(private readonly metrics: MetricsService) {}

  onModuleInit(): void {
    this.running = startProcessMetrics(this.metrics.registry);
  }

  onModuleDestroy(): void {
    this.running?.stop();
    this.running = null;
  }
}

@Global()
@Module({})
export class MetricsModule {
  /** `publicScrape`: METRICS_PUBLIC, `/metrics` without a key. */
  static forRoot(publicScrape: boolean): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [metricsController(publicScrape)],
      providers: [
        MetricsService,
        ProcessMetrics,
        {
          provide: LlmMetrics,
          inject: [GatewaySettings, MetricsService],
          useFactory: (settings: GatewaySettings, metrics: MetricsService): LlmMetrics => {
            const { METRICS_MAX_KEY_SERIES, METRICS_MAX_MODEL_SERIES } = settings.environment;
            const llm = new LlmMetrics({ maxKeySeries: METRICS_MAX_KEY_SERIES, maxModelSeries: METRICS_MAX_MODEL_SERIES });
            metrics.addRenderer((lines) => llm.render(lines));
            return llm;
          },
        },
      ],
      exports: [MetricsService, LlmMetrics],
    };
  }
}
