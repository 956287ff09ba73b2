import type { StandardLoggingPayload } from '../standard-logging-payload';

/** LiteLLM's marker and shapes, so dashboards and queries written for LiteLLM's redacted events keep working. */
export const REDACTED_MARKER = 'redacted-by-litellm';

/** `turn_off_message_logging`: the call's metadata stays, its content does not. */
export function withoutMessages(payload: StandardLoggingPayload): StandardLoggingPayload {
  return {
    ...payload,
    messages: [{ role: 'user', content: REDACTED_MARKER }],
    response: payload.response === null ? null : { text: REDACTED_MARKER },
  };
}

/** `redact_user_api_key_info`: who called (key hash and alias, user, team) is left out. */
export function withoutKeyInfo(payload: StandardLoggingPayload): StandardLoggingPayload {
  const { user: _user, ...modelParameters } = payload.model_parameters;
  return {
    ...payload,
    end_user: null,
    model_parameters: modelParameters,
    metadata: {
      ...payload.metadata,
      user_api_key_hash: null,
      user_api_key_alias: null,
      user_api_key_team_id: null,
      user_api_key_team_alias: null,
      user_api_key_end_user_id: null,
      team_id: null,
      team_alias: null,
    },
  };
}
