import { Module } from '@nestjs/common';
import { AuditModule } from '../../audit/audit.module';
import { KeysModule } from '../../keys/keys.module';
import { LoggingModule } from '../logging.module';
import { SecretReencryptionService } from './secret-reencryption.service';
import { SecretsController } from './secrets.controller';

/** Key rotation for the logging secrets stored in teams, keys and the outbox. */
@Module({
  imports: [LoggingModule, KeysModule, AuditModule],
  controllers: [SecretsController],
  providers: [SecretReencryptionService],
})
export class SecretsModule {}
