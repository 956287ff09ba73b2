import type { ServerResponse } from 'node:http';
import type { AppException } from '../../errors';
import { AnswerRewriter, type EventRewriter } from '../answer-rewriter';
import type { NativeCall } from '../providers/provider';
import { rejectCallerOverrides, type RequestBody } from '../request-body';
import { readResponsesRequest } from './chat-request';
import { responsesReading } from './chat-reading';
import { responsesAnswer } from './responses-answer';
import { responsesEvent, ResponsesEventWriter } from './responses-events';

export interface ResponsesRead {
  readonly chatBody: RequestBody;
  readonly native: NativeCall;
  /**
   * False when the chat body does not hold all the request (a previous response, a built-in tool): two such
   * calls with the same chat body may want different answers, so none is read from or written to the cache.
   */
  readonly cacheable: boolean;
}

/**
 * The client side of `POST /v1/responses` (AnswerRewriter): a `chat.completion` goes out as a Responses `response`,
 * a chunk stream as the Responses events (a stream's `{"error"}` event as `response.failed`). Error answers keep
 * OpenAI's envelope, which is the Responses API's too; what an OpenAI or Azure deployment answered in its own format
 * passes unchanged.
 */
export class ResponsesResponse extends AnswerRewriter {
  /** The id of the response the upstream made and keeps, once its native answer was read. */
  upstreamId: string | null = null;
  private request: RequestBody = {};

  static install(res: ServerResponse): ResponsesResponse {
    return new ResponsesResponse(res);
  }

  /** The caller's Responses body read for the chat path, and the same call as an OpenAI or Azure deployment gets it. */
  read(body: RequestBody): ResponsesRead {
    rejectCallerOverrides(body);
    const { chatBody, problem } = readResponsesRequest(body);
    this.request = body;
    const translation = responsesReading((id) => {
      this.upstreamId = id;
    });
    return {
      chatBody,
      cacheable: problem === null,
      native: {
        format: 'openai-responses',
        // The provider leaves the gateway's own fields out (native-body.ts).
        body,
        headers: {},
        passThrough: () => this.passThrough(),
        errorEvent: (failure: AppException) =>
          responsesEvent({ type: 'error', code: failure.code, message: failure.message, param: null, sequence_number: translation.lastSequence() + 1 }),
        translation,
        chatProblem: problem,
      },
    };
  }

  protected rewriteAnswer(completion: Record<string, unknown>): unknown {
    return responsesAnswer(completion, this.request);
  }

  protected eventRewriter(): EventRewriter {
    return new ResponsesEventWriter(this.request);
  }
}
