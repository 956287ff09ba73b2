import type { SecretRedactor } from '../../common/secret-redactor';
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

/**
 * A failure's error text with every credential replaced. The upstream's words are redacted where they enter, so
 * this is the second lock, for any other error whose message reached the record.
 */
export function withRedactedError(payload: StandardLoggingPayload, redactor: SecretRedactor): StandardLoggingPayload {
  const info = payload.error_information;
  return {
    ...payload,
    error_str: payload.error_str === null ? null : redactor.redact(payload.error_str),
    error_information: info === null ? null : { ...info, error_message: redactor.redact(info.error_message) },
  };
}
