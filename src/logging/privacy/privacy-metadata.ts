import { AppException } from '../../errors';
import type { Principal } from '../../keys/principal';
import { readLoggingSettings, relaxations, type PrivacyLayer } from './privacy-settings';

/**
 * Checks a team's or key's `metadata.logging_settings` when it is written: a bad value is a 400 naming the field
 * (a catastrophic masking pattern included), and only the proxy admin may relax privacy (see `relaxations`).
 * `null` removes the stored settings (proxy admin only, when there are any).
 */
export function checkPrivacyMetadata(
  metadata: Readonly<Record<string, unknown>>,
  caller: Principal,
  stored: Readonly<Record<string, unknown>> | null,
): void {
  if (!Object.prototype.hasOwnProperty.call(metadata, 'logging_settings')) return;
  const storedLayer = storedSettings(stored);
  if (metadata.logging_settings === null) {
    if (!caller.isProxyAdmin && Object.keys(storedLayer).length > 0) {
      throw new AppException('forbidden', 'Only the proxy admin may remove a team’s or key’s logging_settings', { param: 'metadata.logging_settings' });
    }
    return;
  }
  const read = readLoggingSettings(metadata.logging_settings, { checkPatterns: true });
  if ('problem' in read) {
    const param = read.problem.path === '' ? 'metadata.logging_settings' : `metadata.logging_settings.${read.problem.path}`;
    throw new AppException('validation_failed', `${param}: ${read.problem.message}`, { param });
  }
  const incoming = read.layer;
  if (caller.isProxyAdmin) return;
  const relaxed = relaxations(incoming, storedLayer);
  if (relaxed.length > 0) {
    throw new AppException(
      'forbidden',
      `Only the proxy admin may relax privacy settings: ${relaxed.map((name) => `logging_settings.${name}`).join(', ')}`,
      { param: `metadata.logging_settings.${relaxed[0]}` },
    );
  }
}

function storedSettings(stored: Readonly<Record<string, unknown>> | null): PrivacyLayer {
  if (stored?.logging_settings === undefined || stored.logging_settings === null) return {};
  const read = readLoggingSettings(stored.logging_settings, { checkPatterns: false });
  return 'layer' in read ? read.layer : {};
}
