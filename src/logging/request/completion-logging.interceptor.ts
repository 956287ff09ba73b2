import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { finalize, type Observable } from 'rxjs';
import { AppException } from '../../errors';
import type { AuthenticatedRequest } from '../../keys/auth.decorators';
import type { Principal } from '../../keys/principal';
import { CALL_RECORD, type RequestWithCallRecord } from './call-record';
import { LoggingService } from './logging.service';
import { readFlag } from '../privacy/privacy-settings';
import { privacyHints, PrivacyResolver } from '../privacy/privacy-resolver';

/**
 * Fires the resolved success or failure loggers once a call is over. It only observes: the record settles
 * after the response is fully sent (after the last chunk of a stream), then it is enqueued. Nothing here
 * can delay or fail the response, except a `no-log` the caller may not use, refused before the call is made.
 */
@Injectable()
export class CompletionLoggingInterceptor implements NestInterceptor {
  private readonly logger = new Logger(CompletionLoggingInterceptor.name);

  constructor(
    private readonly logging: LoggingService,
    private readonly privacy: PrivacyResolver,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest & RequestWithCallRecord & { body?: unknown; headers: IncomingHttpHeaders }>();
    const principal = request.principal;
    if (principal && this.noLogRequested(request.body, principal)) return next.handle();
    return next.handle().pipe(
      finalize(() => {
        const record = request[CALL_RECORD];
        if (!record || !principal) return;
        record.whenSettled((build) => {
          try {
            this.logging.dispatch(build, principal, privacyHints(request.headers));
          } catch (error) {
            this.logger.error(`call record failed: ${error instanceof Error ? error.message : String(error)}`);
          }
        });
      }),
    );
  }

  /**
   * LiteLLM's `"no-log": true`: this call is logged nowhere. Where the proxy admin forbade it (globally, for the
   * team or the key), the request is refused rather than logged against the caller's wish. A refused request is
   * not logged either: it never reached the model, and its caller asked for its content to stay out of the logs.
   */
  private noLogRequested(body: unknown, principal: Principal): boolean {
    if (body === null || typeof body !== 'object' || Array.isArray(body) || !Object.prototype.hasOwnProperty.call(body, 'no-log')) return false;
    const raw = (body as Record<string, unknown>)['no-log'];
    const noLog = raw === null ? false : readFlag(raw);
    if (noLog === undefined) throw new AppException('validation_failed', '`no-log` must be true or false', { param: 'no-log' });
    if (!noLog) return false;
    const allowed = this.privacy.resolve(principal).no_log_allowed;
    if (!allowed.value) {
      throw new AppException('validation_failed', `\`no-log\` is disabled for this ${allowed.source === 'global' ? 'gateway' : allowed.source === 'config' ? 'team' : allowed.source} by the proxy admin: this request would be logged`, {
        param: 'no-log',
      });
    }
    return true;
  }
}
