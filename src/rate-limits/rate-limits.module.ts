import { Module } from '@nestjs/common';
import { RateLimitService } from './rate-limits.service';

@Module({
  providers: [RateLimitService],
  exports: [RateLimitService],
})
export class RateLimitsModule {}
