import { AppException } from '../../errors';
import type { Principal } from '../../keys/principal';
import { outcomeProblem, shapeProblem } from './custom-pattern';
import { compileOffThread } from './pattern-check-thread';
import { patternProblem, readLoggingSettings, relaxations, type PrivacyLayer, type PrivacyProblem } from './privacy-settings';

/**
 * Checks a team's or key's `metadata.logging_settings` when it is written: a bad value is a 400 naming the field
 * (a masking pattern RE2 cannot run included), and only the proxy admin may relax privacy (see `relaxations`).
 * `null` removes the stored settings (proxy admin only, when there are any).
 */
export async function checkPrivacyMetadata(
  metadata: Readonly<Record<string, unknown>>,
  caller: Principal,
  stored: Readonly<Record<string, unknown>> | null,
): Promise<void> {
  if (!Object.prototype.hasOwnProperty.call(metadata, 'logging_settings')) return;
  const storedLayer = storedSettings(stored);
  if (metadata.logging_settings === null) {
    if (!caller.isProxyAdmin && Object.keys(storedLayer).length > 0) {
      throw new AppException('forbidden', 'Only the proxy admin may remove a team’s or key’s logging_settings', { param: 'metadata.logging_settings' });
    }
    return;
  }
  const read = readLoggingSettings(metadata.logging_settings, { checkPatterns: false });
  if ('problem' in read) throw invalid(read.problem);
  const refused = await customPatternsProblem(read.layer);
  if (refused !== null) throw invalid(refused);
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

function invalid(problem: PrivacyProblem): AppException {
  const param = problem.path === '' ? 'metadata.logging_settings' : `metadata.logging_settings.${problem.path}`;
  return new AppException('validation_failed', `${param}: ${problem.message}`, { param });
}

/** The first custom pattern RE2 refuses, compiled off the request loop (pattern-check-thread.ts). */
async function customPatternsProblem(layer: PrivacyLayer): Promise<PrivacyProblem | null> {
  const patterns = layer.pii_masking?.patterns ?? [];
  for (const [index, pattern] of patterns.entries()) {
    const reason = shapeProblem(pattern.regex);
    if (reason !== null) return patternProblem(index, pattern, reason);
  }
  const outcomes = await compileOffThread(patterns.map((pattern) => pattern.regex)).catch(() => {
    throw new AppException('service_unavailable', 'The masking patterns could not be checked just now; try again', { param: 'metadata.logging_settings.pii_masking.patterns' });
  });
  for (const [index, outcome] of outcomes.entries()) {
    const reason = outcomeProblem(outcome);
    if (reason !== null) return patternProblem(index, patterns[index], reason);
  }
  return null;
}

function storedSettings(stored: Readonly<Record<string, unknown>> | null): PrivacyLayer {
  if (stored?.logging_settings === undefined || stored.logging_settings === null) return {};
  const read = readLoggingSettings(stored.logging_settings, { checkPatterns: false });
  return 'layer' in read ? read.layer : {};
}
