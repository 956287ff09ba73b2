import { Global, Logger, Module } from '@nestjs/common';
import { GatewaySettings } from '../config/gateway-settings';
import { Tracing, TracingOff } from './tracing';

/**
 * The gateway's own tracing for every module (the request middleware in bootstrap.ts, the delivery handover). With
 * no OTLP endpoint the OpenTelemetry SDK is not even loaded. On, its spans are flushed at shutdown, after the delivery
 * thread's last report (OtelTracing's onApplicationShutdown).
 */
@Global()
@Module({
  providers: [{ provide: Tracing, inject: [GatewaySettings], useFactory: startTracing }],
  exports: [Tracing],
})
export class TracingModule {}

async function startTracing(settings: GatewaySettings): Promise<Tracing> {
  const tracing = settings.environment.tracing;
  if (tracing === null) return new TracingOff();
  const { OtelTracing } = await import('./otel-tracing');
  new Logger('Tracing').log(OtelTracing.describe(tracing));
  return new OtelTracing(tracing);
}
