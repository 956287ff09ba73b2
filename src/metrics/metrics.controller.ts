import { Controller, Get, Header, type Type } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access, Public } from '../keys/auth.decorators';
import { MetricsService } from './metrics.service';

/**
 * `GET /metrics`, Prometheus text format. Who may scrape is decided at start-up (METRICS_PUBLIC): the proxy admin
 * (`Authorization: Bearer <master key>`), or anyone, as LiteLLM serves it to scrapers. The route's access level is
 * static metadata, so each choice is its own controller class.
 */
export function metricsController(open: boolean): Type {
  const RouteAccess = open ? Public() : Access('admin');

  @ApiTags('metrics')
  @Controller('metrics')
  class MetricsController {
    constructor(private readonly metrics: MetricsService) {}

    @Get()
    @RouteAccess
    @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
    @ApiOperation({
      summary: `Prometheus metrics: LLM calls (LiteLLM's names), process and Node.js, log delivery, HTTP requests${open ? ' (public: METRICS_PUBLIC=true)' : ''}`,
    })
    scrape(): Promise<string> {
      return this.metrics.scrape();
    }
  }
  return MetricsController;
}
