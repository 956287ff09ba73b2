import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { AppException } from '../errors';
import { newUsageLimits } from '../management/usage-limits.dto';
import { TEAM_MEMBER_ROLES, type TeamMemberRole } from '../teams/team-member.entity';
import { User } from './user.entity';

/** A user named by id or email, as LiteLLM's `Member` and the member routes take it. */
export interface UserReference {
  user_id?: string | null;
  user_email?: string | null;
}

export interface MemberInput extends UserReference {
  role: TeamMemberRole;
}

const MEMBER_FIELDS = new Set(['user_id', 'user_email', 'role']);
const MAX_ID = 256;
const MAX_EMAIL = 320;

/** One `Member` object, checked field by field with its path in errors (`members_with_roles[2].role`). */
export function readMember(value: unknown, param: string): MemberInput {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AppException('validation_failed', `${param} must be an object with user_id or user_email, and role`, { param });
  }
  const member = value as Record<string, unknown>;
  for (const field of Object.keys(member)) {
    if (!MEMBER_FIELDS.has(field)) throw new AppException('unrecognized_field', `Unrecognized request argument supplied: ${param}.${field}`, { param: `${param}.${field}` });
  }
  const userId = optionalText(member.user_id, `${param}.user_id`, MAX_ID);
  const userEmail = optionalText(member.user_email, `${param}.user_email`, MAX_EMAIL);
  if (userId === null && userEmail === null) {
    throw new AppException('validation_failed', 'Either user id or user email must be provided', { param: `${param}.user_id` });
  }
  const role = member.role ?? 'user';
  if (!(TEAM_MEMBER_ROLES as readonly unknown[]).includes(role)) {
    throw new AppException('validation_failed', `${param}.role must be one of ${TEAM_MEMBER_ROLES.join(', ')}`, { param: `${param}.role` });
  }
  return { user_id: userId, user_email: userEmail, role: role as TeamMemberRole };
}

/** `member` of `/team/member_add`: one Member or a list of them. */
export function readMembers(value: unknown, param: string): MemberInput[] {
  if (Array.isArray(value)) {
    if (value.length > 1000) throw new AppException('validation_failed', `${param} may hold at most 1000 members`, { param });
    return value.map((item, index) => readMember(item, `${param}[${index}]`));
  }
  return [readMember(value, param)];
}

function optionalText(value: unknown, param: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > max || /[\s/\\?#%]/.test(value)) {
    throw new AppException('validation_failed', `${param} must be 1-${max} characters without spaces, slashes, ?, # or %`, { param });
  }
  return value;
}

/** The user a reference names: by id, else by email (case-insensitive, as LiteLLM compares them). */
export async function findUser(manager: EntityManager, ref: UserReference): Promise<User | null> {
  if (ref.user_id) return manager.findOneBy(User, { userId: ref.user_id });
  if (ref.user_email) {
    return manager
      .getRepository(User)
      .createQueryBuilder('user')
      .where('lower(user.user_email) = lower(:email)', { email: ref.user_email })
      .orderBy('user.created_at', 'ASC')
      .getOne();
  }
  return null;
}

/** The user a reference names, created when absent (LiteLLM creates members that do not exist yet). */
export async function findOrCreateUser(manager: EntityManager, ref: UserReference): Promise<{ user: User; created: boolean }> {
  const existing = await findUser(manager, ref);
  if (existing !== null) {
    if (ref.user_email && existing.userEmail === null) {
      existing.userEmail = ref.user_email;
      await manager.update(User, { userId: existing.userId }, { userEmail: ref.user_email });
    }
    return { user: existing, created: false };
  }
  const user = manager.create(User, {
    userId: ref.user_id ?? randomUUID(),
    userEmail: ref.user_email ?? null,
    userRole: 'internal_user',
    usage: newUsageLimits(),
  });
  return { user: await manager.save(user), created: true };
}
