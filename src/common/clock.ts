import { Injectable } from '@nestjs/common';

/** The time budgets and rate limits read, injectable so tests can move it (a budget period ending, a window turning). */
@Injectable()
export class Clock {
  now(): number {
    return Date.now();
  }
}
