import { Injectable } from '@nestjs/common';
import type { Principal } from '../keys/principal';
import type { StandardLoggingPayload } from './standard-logging-payload';

/**
 * Entry point of the logging module: takes a finished call's event and the caller, resolves where the
 * event goes and enqueues it. Never awaits a destination and never throws into the request.
 */
@Injectable()
export class LoggingService {
  dispatch(_payload: StandardLoggingPayload, _principal: Principal): void {
    // Destinations, resolution and delivery arrive with the logging issue (#4).
  }
}
