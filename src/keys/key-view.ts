import { maskMetadata } from '../logging/logging-entry';
import { metadataWithModelLimits, usageLimitsView } from '../management/usage-limits.dto';
import type { KeyResponseDto } from './dto/key.dto';
import type { VirtualKey } from './key.entity';

/** A key as answers show it: LiteLLM's names, metadata masked, LiteLLM fields Gatehouse only stores at the top level. */
export function toKeyResponse(row: VirtualKey): KeyResponseDto {
  return {
    ...row.usage.extraFields,
    token: row.token,
    key_name: row.keyName,
    key_alias: row.keyAlias,
    team_id: row.teamId,
    user_id: row.userId,
    role: row.role,
    metadata: metadataWithModelLimits(maskMetadata(row.metadata), row.usage),
    models: row.models,
    blocked: row.blocked,
    expires: row.expiresAt ? row.expiresAt.toISOString() : null,
    ...usageLimitsView(row.usage),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** A key as a team's or user's info shows it to someone who does not manage it: no token (LiteLLM leaks it; we do not). */
export function toKeyResponseWithoutToken(row: VirtualKey): Omit<KeyResponseDto, 'token'> {
  const view: Partial<KeyResponseDto> = toKeyResponse(row);
  delete view.token;
  return view as Omit<KeyResponseDto, 'token'>;
}
