import { ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { IsArray, IsBoolean, IsNumber, IsObject, IsOptional, IsString } from 'class-validator';

/**
 * LiteLLM fields Gatehouse accepts, keeps (`extra_fields`) and returns, but does not act on. Each route declares the
 * ones LiteLLM's request type has, so a LiteLLM script's body passes while a field LiteLLM does not know is still
 * "Unrecognized request argument supplied". A value given (not null, not empty) is named once in the answer's
 * `warnings`.
 */
export type StoredFieldKind = 'list' | 'object' | 'string' | 'boolean' | 'number' | 'list_or_object';

export type StoredFieldTable = Readonly<Record<string, StoredFieldKind>>;

const TYPE_CHECKS: Record<StoredFieldKind, PropertyDecorator[]> = {
  list: [IsArray()],
  object: [IsObject()],
  string: [IsString()],
  boolean: [IsBoolean()],
  number: [IsNumber({ allowNaN: false, allowInfinity: false })],
  // object_permission and router_settings are objects; a few LiteLLM versions send lists for some of them.
  list_or_object: [],
};

const SWAGGER_TYPES: Record<StoredFieldKind, ApiPropertyOptions> = {
  list: { type: String, isArray: true },
  object: { type: Object },
  string: { type: String },
  boolean: { type: Boolean },
  number: { type: Number },
  list_or_object: { type: Object },
};

/** Adds the fields to a DTO class: optional (null = absent), type-checked, documented as stored but not enforced. */
export function declareStoredFields(target: abstract new (...args: never[]) => unknown, fields: StoredFieldTable): void {
  for (const [name, kind] of Object.entries(fields)) {
    const decorators: PropertyDecorator[] = [
      IsOptional(),
      ...TYPE_CHECKS[kind],
      ApiPropertyOptional({ ...SWAGGER_TYPES[kind], nullable: true, description: 'LiteLLM field: stored and returned, not enforced by Gatehouse' }),
    ];
    for (const decorate of decorators) decorate(target.prototype as object, name);
  }
}

export interface StoredFieldValues {
  /** The fields given (null ones left out), to merge into `extra_fields`. */
  values: Record<string, unknown>;
  warnings: string[];
}

/** What `body` gives for `fields`; an empty list or object, or `false`, is stored but not warned about. */
export function readStoredFields(body: object, fields: StoredFieldTable): StoredFieldValues {
  const values: Record<string, unknown> = {};
  const warnings: string[] = [];
  for (const name of Object.keys(fields)) {
    const value = (body as Record<string, unknown>)[name];
    if (value === undefined || value === null) continue;
    values[name] = value;
    if (isMeaningful(value)) warnings.push(`${name} is stored but not enforced by Gatehouse`);
  }
  return { values, warnings };
}

function isMeaningful(value: unknown): boolean {
  if (value === false || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length > 0;
  return true;
}

/** Shared by keys and users (LiteLLM's `GenerateRequestBase`). */
const GENERATE_BASE: StoredFieldTable = {
  agent_id: 'string',
  allowed_cache_controls: 'list',
  config: 'object',
  permissions: 'object',
  guardrails: 'list',
  policies: 'list',
  prompts: 'list',
  aliases: 'object',
  object_permission: 'list_or_object',
};

/** LiteLLM's `KeyRequestBase` beyond the generate base. */
const KEY_BASE: StoredFieldTable = {
  ...GENERATE_BASE,
  budget_id: 'string',
  tags: 'list',
  enforced_params: 'list',
  allowed_routes: 'list',
  allowed_passthrough_routes: 'list',
  allowed_vector_store_indexes: 'list',
  rpm_limit_type: 'string',
  tpm_limit_type: 'string',
  router_settings: 'list_or_object',
  access_group_ids: 'list',
};

export const KEY_GENERATE_STORED: StoredFieldTable = {
  ...KEY_BASE,
  send_invite_email: 'boolean',
  key_type: 'string',
  auto_rotate: 'boolean',
  rotation_interval: 'string',
  organization_id: 'string',
  project_id: 'string',
};

export const KEY_UPDATE_STORED: StoredFieldTable = {
  ...KEY_BASE,
  temp_budget_increase: 'number',
  temp_budget_expiry: 'string',
  auto_rotate: 'boolean',
  rotation_interval: 'string',
  organization_id: 'string',
};

/** `/key/regenerate` takes the generate fields plus these; `grace_period` is refused at once (see the service). */
export const KEY_REGENERATE_STORED: StoredFieldTable = {
  ...KEY_GENERATE_STORED,
  new_master_key: 'string',
  grace_period: 'string',
};

const TEAM_BASE: StoredFieldTable = {
  organization_id: 'string',
  admins: 'list',
  members: 'list',
  team_member_permissions: 'list',
  router_settings: 'list_or_object',
  access_group_ids: 'list',
  model_aliases: 'object',
  tags: 'list',
  guardrails: 'list',
  policies: 'list',
  prompts: 'list',
  object_permission: 'list_or_object',
  allowed_passthrough_routes: 'list',
  secret_manager_settings: 'object',
  rpm_limit_type: 'string',
  tpm_limit_type: 'string',
  team_member_budget: 'number',
  team_member_budget_duration: 'string',
  team_member_rpm_limit: 'number',
  team_member_tpm_limit: 'number',
  team_member_key_duration: 'string',
  allowed_vector_store_indexes: 'list',
  enforced_batch_output_expires_after: 'object',
  enforced_file_expires_after: 'object',
};

export const TEAM_NEW_STORED: StoredFieldTable = TEAM_BASE;

/** LiteLLM's `UpdateTeamRequest` has no `admins`, `members` or `team_member_permissions` (members change through /team/member_*). */
export const TEAM_UPDATE_STORED: StoredFieldTable = Object.fromEntries(
  Object.entries(TEAM_BASE).filter(([name]) => !['admins', 'members', 'team_member_permissions'].includes(name)),
);

export const USER_NEW_STORED: StoredFieldTable = {
  ...GENERATE_BASE,
  send_invite_email: 'boolean',
  sso_user_id: 'string',
  organizations: 'list',
};

/** LiteLLM's `UpdateUserRequest` carries the key fields of its base too; on a user they only get stored. */
export const USER_UPDATE_STORED: StoredFieldTable = {
  ...GENERATE_BASE,
  key_alias: 'string',
  duration: 'string',
  team_id: 'string',
  blocked: 'boolean',
};
