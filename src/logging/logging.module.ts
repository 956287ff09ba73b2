import { Logger, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { SecretBox, secretBoxFor } from '../common/secret-box';
import { GatewaySettings } from '../config/gateway-settings';
import { CompletionLoggingInterceptor } from './request/completion-logging.interceptor';
import { DeadLettersController } from './dead-letters.controller';
import { DataSource } from 'typeorm';
import { DeliveryHandover } from './request/delivery-handover';
import { OutboxSql, OutboxStore } from './delivery/outbox.store';
import { DestinationRegistry } from './delivery/destination-registry';
import { BuiltInDestinationsModule } from './delivery/destinations/built-in-destinations.module';
import { KeyHealthService } from './key-health.service';
import { LoggingEntryPolicy } from './logging-entry.policy';
import { LoggingResolver } from './request/logging-resolver';
import { LoggingService } from './request/logging.service';
import { PrivacyResolver } from './privacy/privacy-resolver';
import { UnsetVariableWarnings } from './unset-variable-warnings';

/**
 * Team and key based logging. Destinations come from `@LogDestinationModule`s anywhere in the application: the
 * built-in ones (imported here) and any a deployment adds (see README, "Extending").
 */
@Module({
  imports: [DiscoveryModule, BuiltInDestinationsModule],
  controllers: [DeadLettersController],
  providers: [
    {
      provide: SecretBox,
      inject: [GatewaySettings],
      useFactory: (settings: GatewaySettings) => {
        const box = secretBoxFor(settings);
        const logger = new Logger('Secrets');
        if (box.derivedFrom === 'master_key') {
          logger.warn(
            'SALT_KEY is not set: logging secrets are encrypted with a key derived from the master key. ' +
              'Rotating the master key would make them unreadable; set SALT_KEY to a long random value (secrets stored so far ' +
              'stay readable, the master key is still tried when decrypting; POST /secrets/reencrypt moves them to SALT_KEY).',
          );
        }
        if (settings.environment.SALT_KEY_PREVIOUS.length > 0) {
          logger.log(
            `SALT_KEY_PREVIOUS: ${settings.environment.SALT_KEY_PREVIOUS.length} previous key(s) used to decrypt. ` +
              'Re-encrypt the stored secrets with POST /secrets/reencrypt, then remove SALT_KEY_PREVIOUS.',
          );
        }
        return box;
      },
    },
    DestinationRegistry,
    LoggingResolver,
    PrivacyResolver,
    LoggingEntryPolicy,
    // The dead-letter routes and the outbox gauges query the outbox here; delivery runs on its own thread.
    { provide: OutboxSql, useExisting: DataSource },
    OutboxStore,
    DeliveryHandover,
    LoggingService,
    KeyHealthService,
    CompletionLoggingInterceptor,
    UnsetVariableWarnings,
  ],
  exports: [LoggingService, CompletionLoggingInterceptor, LoggingEntryPolicy, LoggingResolver, PrivacyResolver, KeyHealthService, SecretBox],
})
export class LoggingModule {}
