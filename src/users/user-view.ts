import { metadataWithModelLimits, usageLimitsView, type UsageLimitsResponseDto } from '../management/usage-limits.dto';
import type { User, UserRole } from './user.entity';

/** A user as answers show it (LiteLLM's `LiteLLM_UserTable` names); no password is ever stored. */
export interface UserView extends UsageLimitsResponseDto {
  user_id: string;
  user_email: string | null;
  user_alias: string | null;
  user_role: UserRole | null;
  metadata: Record<string, unknown>;
  models: string[];
  created_at: string;
  updated_at: string;
  [litellmField: string]: unknown;
}

export function toUserResponse(user: User): UserView {
  return {
    ...user.usage.extraFields,
    user_id: user.userId,
    user_email: user.userEmail,
    user_alias: user.userAlias,
    user_role: user.userRole,
    metadata: metadataWithModelLimits(user.metadata, user.usage),
    models: user.models,
    ...usageLimitsView(user.usage),
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
  };
}
