import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { Public } from '../keys/auth.decorators';

/** LiteLLM's spelling of the probes (`liveliness`), plus the common `liveness`. Public by design. */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  @Get(['liveliness', 'liveness'])
  @HttpCode(200)
  @ApiOperation({ summary: 'The process is up' })
  @ApiOkResponse({ schema: { example: "I'm alive!" } })
  liveliness(): string {
    return "I'm alive!";
  }

  @Get('readiness')
  @ApiOperation({ summary: 'The process can serve: the database answers' })
  @ApiOkResponse({ schema: { example: { status: 'healthy', db: 'connected' } } })
  @ApiServiceUnavailableResponse({ schema: { example: { status: 'unhealthy', db: 'disconnected' } } })
  async readiness(@Res({ passthrough: true }) response: Response): Promise<{ status: string; db: string }> {
    try {
      await this.dataSource.query('SELECT 1');
      return { status: 'healthy', db: 'connected' };
    } catch {
      response.status(503);
      return { status: 'unhealthy', db: 'disconnected' };
    }
  }
}
