import type { OpenAiChunk, ProviderCall, StreamTranslator } from '../provider';
import { UpstreamErrorEvent, UpstreamProtocolError } from '../provider';
import { answerIdentity, finishReasonOf, parseResponse, readParts, usageOf, type OpenAiUsage } from './chat-answer';
import { ServerSentEvents } from '../server-sent-events';
import type { GenerateContentResponse } from './wire';

interface CandidateState {
  readonly index: number;
  roleSent: boolean;
  toolCalls: number;
  finishReason: string | undefined;
}

/**
 * `streamGenerateContent?alt=sse` as OpenAI chunks. Each event is a whole GenerateContentResponse carrying the next
 * piece of every candidate: its text becomes `delta.content`, thought summaries `delta.reasoning_content`, each
 * function call one complete `delta.tool_calls` entry (Google never splits a call). Google may repeat
 * `finishReason` and `usageMetadata` on several events, so both are kept and sent once, when the stream ends:
 * a chunk with each candidate's `finish_reason`, then the usage chunk. A stream that ends without a finish reason
 * was cut short, and is a protocol error.
 */
export class GenerateContentStream implements StreamTranslator {
  private readonly events = new ServerSentEvents();
  private readonly candidates = new Map<number, CandidateState>();
  private identity: { id: string; created: number; model: string } | null = null;
  private usage: OpenAiUsage | null = null;
  private blocked = false;

  constructor(private readonly call: ProviderCall) {}

  push(bytes: Buffer): readonly OpenAiChunk[] {
    return this.translate(this.events.push(bytes));
  }

  end(): readonly OpenAiChunk[] {
    const chunks = [...this.translate(this.events.end())];
    const finished = [...this.candidates.values()].filter((state) => state.finishReason !== undefined);
    if (finished.length === 0 && !this.blocked) {
      throw new UpstreamProtocolError('the stream ended before Google sent a finish reason');
    }
    const identity = this.identity as NonNullable<GenerateContentStream['identity']>;
    const closing =
      this.candidates.size === 0
        ? [{ index: 0, delta: { role: 'assistant', content: null }, logprobs: null, finish_reason: 'content_filter' }]
        : [...this.candidates.values()]
            .sort((a, b) => a.index - b.index)
            .map((state) => ({
              index: state.index,
              delta: state.roleSent ? {} : { role: 'assistant', content: null },
              logprobs: null,
              finish_reason: finishReasonOf(state.finishReason, state.toolCalls > 0),
            }));
    chunks.push(this.chunk(identity, closing));
    if (this.usage !== null) chunks.push({ ...this.chunk(identity, []), usage: this.usage });
    return chunks;
  }

  private translate(events: readonly string[]): OpenAiChunk[] {
    const chunks: OpenAiChunk[] = [];
    try {
      for (const data of events) {
        const response = parseResponse(data);
        this.identity ??= answerIdentity(response, this.call);
        const choices = this.choicesOf(response);
        if (choices.length > 0) chunks.push(this.chunk(this.identity, choices));
      }
    } catch (error) {
      if (error instanceof UpstreamProtocolError || error instanceof UpstreamErrorEvent) error.chunksBefore = chunks;
      throw error;
    }
    return chunks;
  }

  private choicesOf(response: GenerateContentResponse): Array<Record<string, unknown>> {
    if (response.promptFeedback?.blockReason) this.blocked = true;
    const usage = usageOf(response.usageMetadata);
    if (usage !== null) this.usage = usage;
    const choices: Array<Record<string, unknown>> = [];
    (response.candidates ?? []).forEach((candidate, position) => {
      const index = typeof candidate?.index === 'number' ? candidate.index : position;
      let state = this.candidates.get(index);
      if (state === undefined) {
        state = { index, roleSent: false, toolCalls: 0, finishReason: undefined };
        this.candidates.set(index, state);
      }
      if (typeof candidate?.finishReason === 'string') state.finishReason = candidate.finishReason;
      const read = readParts(candidate?.content?.parts);
      if (read.content === null && read.reasoning === null && read.toolCalls.length === 0) return;
      const delta: Record<string, unknown> = {};
      if (!state.roleSent) delta.role = 'assistant';
      state.roleSent = true;
      if (read.content !== null) delta.content = read.content;
      if (read.reasoning !== null) delta.reasoning_content = read.reasoning;
      if (read.toolCalls.length > 0) {
        const first = state.toolCalls;
        state.toolCalls += read.toolCalls.length;
        delta.tool_calls = read.toolCalls.map((toolCall, offset) => ({ index: first + offset, ...toolCall }));
      }
      choices.push({ index, delta, logprobs: null, finish_reason: null });
    });
    return choices;
  }

  private chunk(identity: { id: string; created: number; model: string }, choices: Array<Record<string, unknown>>): OpenAiChunk {
    return { id: identity.id, object: 'chat.completion.chunk', created: identity.created, model: identity.model, choices };
  }
}
