import { Module } from '@nestjs/common';
import { CompletionLoggingInterceptor } from './completion-logging.interceptor';
import { LoggingService } from './logging.service';

@Module({
  providers: [LoggingService, CompletionLoggingInterceptor],
  exports: [LoggingService, CompletionLoggingInterceptor],
})
export class LoggingModule {}
