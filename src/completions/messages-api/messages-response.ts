import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AppException } from '../../errors';
import { AnswerRewriter, type EventRewriter } from '../answer-rewriter';
import type { NativeCall } from '../providers/provider';
import type { RequestBody } from '../request-body';
import { rejectCallerOverrides } from '../request-body';
import { ROUTER_BODY_FIELDS } from '../router/request-routing';
import { anthropicErrorType } from './anthropic-error-body';
import { chatRequest } from './chat-request';
import { messagesAnswer } from './messages-answer';
import { anthropicEvent, MessagesEventWriter } from './messages-events';

/** Gateway controls a Messages caller may send as it would on chat (the router's too); never sent to Anthropic. */
const GATEWAY_ONLY_FIELDS: readonly string[] = ['no-log', 'cache', ...ROUTER_BODY_FIELDS];
/** Caller headers an Anthropic upstream should see: the betas decide what the body may contain. */
const FORWARDED_HEADERS = ['anthropic-beta'] as const;

/** The caller's headers that an Anthropic upstream should see. */
export function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const forwarded: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string' && value !== '') forwarded[name] = value;
  }
  return forwarded;
}

/** Removes the gateway's own controls from a body bound for Anthropic as it is. */
export function withoutGatewayFields(body: RequestBody): RequestBody {
  for (const field of GATEWAY_ONLY_FIELDS) delete body[field];
  return body;
}

/**
 * The client side of `POST /v1/messages` (AnswerRewriter): a `chat.completion` goes out as a Messages answer, a
 * chunk stream as Anthropic's events (a stream's `{"error"}` event as Anthropic's `error` event). Error answers are
 * already in Anthropic's envelope (the exception filter writes it for this route); an answer from an Anthropic
 * deployment in its own format passes unchanged.
 */
export class MessagesResponse extends AnswerRewriter {
  static install(res: ServerResponse): MessagesResponse {
    return new MessagesResponse(res);
  }

  /**
   * The caller's Messages body read for the chat path, and the same call as an Anthropic deployment gets it
   * (the body unchanged but for the gateway's own fields).
   */
  read(body: RequestBody, headers: IncomingHttpHeaders): { chatBody: RequestBody; native: NativeCall } {
    rejectCallerOverrides(body);
    const chatBody = chatRequest(body);
    for (const field of GATEWAY_ONLY_FIELDS) {
      if (body[field] !== undefined) chatBody[field] = body[field];
    }
    return {
      chatBody,
      native: {
        format: 'anthropic-messages',
        body: withoutGatewayFields({ ...body }),
        headers: forwardedHeaders(headers),
        passThrough: () => this.passThrough(),
        errorEvent: (failure: AppException) => anthropicEvent({ type: 'error', error: { type: anthropicErrorType(failure.status), message: failure.message } }),
      },
    };
  }

  protected rewriteAnswer(completion: Record<string, unknown>): unknown {
    return messagesAnswer(completion);
  }

  protected eventRewriter(): EventRewriter {
    return new MessagesEventWriter();
  }
}
