import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { finalize, type Observable } from 'rxjs';
import type { AuthenticatedRequest } from '../keys/auth.decorators';
import { CALL_RECORD, type RequestWithCallRecord } from './call-record';
import { LoggingService } from './logging.service';

/**
 * Fires the resolved success or failure loggers once a call is over. It only observes: the record settles
 * after the response is fully sent (after the last chunk of a stream), then it is enqueued. Nothing here
 * can delay or fail the response.
 */
@Injectable()
export class CompletionLoggingInterceptor implements NestInterceptor {
  private readonly logger = new Logger(CompletionLoggingInterceptor.name);

  constructor(private readonly logging: LoggingService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest & RequestWithCallRecord>();
    return next.handle().pipe(
      finalize(() => {
        const record = request[CALL_RECORD];
        const principal = request.principal;
        if (!record || !principal) return;
        record.whenSettled((build) => {
          try {
            this.logging.dispatch(build, principal);
          } catch (error) {
            this.logger.error(`call record failed: ${error instanceof Error ? error.message : String(error)}`);
          }
        });
      }),
    );
  }
}
