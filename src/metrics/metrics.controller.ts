import { Controller, Get, Header } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access } from '../keys/auth.decorators';
import { MetricsService } from './metrics.service';

/** Prometheus text format. Proxy admin only: scrape with `Authorization: Bearer <master key>`. */
@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Access('admin')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ summary: 'Prometheus metrics: log delivery, outbox depth, HTTP requests' })
  scrape(): Promise<string> {
    return this.metrics.scrape();
  }
}
