import type { SecretRedactor } from '../../common/secret-redactor';
import { AppException } from '../../errors';
import type { CompiledDeployment } from '../deployment-table';
import type { UpstreamRequest } from '../providers/provider';
import { invalid } from '../providers/request-params';
import type { RequestBody } from '../request-body';
import { askUpstream } from '../upstream-forwarder';

/** Characters per token in English text and code for the BPE tokenizers in use (OpenAI's, Anthropic's, Gemini's). */
const CHARS_PER_TOKEN = 4;
/** What each turn adds for its role and separators. */
const TOKENS_PER_MESSAGE = 4;
/** Anthropic's figure for an image at the largest size it keeps (about 1.15 megapixels, `width × height / 750`). */
const TOKENS_PER_IMAGE = 1600;
/** A page of a PDF read as text and image, as Anthropic documents it (1,500–3,000). */
const TOKENS_PER_DOCUMENT = 3000;

/** A count is a few bytes (`{"input_tokens": n}`); more than this is not one. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** The fields of a Messages body that the model reads as its input. */
const INPUT_FIELDS = ['system', 'messages', 'tools', 'tool_choice'] as const;

/**
 * The answer of `POST /v1/messages/count_tokens` for a deployment whose upstream has no counting API: an estimate
 * from the characters of everything the model reads. A real tokenizer would be exact only for OpenAI's models and
 * costs what the gateway is meant to save (js-tiktoken: 119 MB RSS for cl100k, 230 MB for o200k, about 1.5 ms of
 * event-loop time per 1,000 tokens); Claude Code reads the count for its context meter, where an estimate serves.
 */
export function estimateInputTokens(body: RequestBody): { input_tokens: number } {
  requireCountBody(body);
  let chars = 0;
  let tokens = 0;
  const visit = (value: unknown, inTools: boolean): void => {
    if (typeof value === 'string') {
      chars += value.length;
    } else if (Array.isArray(value)) {
      for (const item of value) visit(item, inTools);
    } else if (value !== null && typeof value === 'object') {
      const block = value as Record<string, unknown>;
      // An image's or a PDF's bytes are no measure of its tokens: Anthropic prices them by size, not by encoding.
      if (block.type === 'image' || block.type === 'document') {
        tokens += block.type === 'image' ? TOKENS_PER_IMAGE : TOKENS_PER_DOCUMENT;
        return;
      }
      for (const [name, inner] of Object.entries(block)) {
        // A tool's JSON schema reaches the model as text, keys included; elsewhere keys are structure.
        if (inTools) chars += name.length;
        visit(inner, inTools);
      }
    } else if (typeof value === 'number' || typeof value === 'boolean') {
      chars += String(value).length;
    }
  };
  for (const field of INPUT_FIELDS) visit(body[field], field === 'tools');
  tokens += (body.messages as unknown[]).length * TOKENS_PER_MESSAGE;
  return { input_tokens: tokens + Math.ceil(chars / CHARS_PER_TOKEN) };
}

/** What Anthropic requires of a counting request: a model and the turns (no `max_tokens`, unlike a Messages call). */
export function requireCountBody(body: RequestBody): void {
  if (typeof body.model !== 'string' || body.model === '') throw invalid('model', 'is required and must be a non-empty string');
  if (!Array.isArray(body.messages)) throw invalid('messages', 'is required and must be an array');
}

/**
 * Asks the deployment's own counter (Anthropic's `count_tokens`) and returns its answer; a refusal or a transport
 * failure is the caller's error, worded as on every other route. Not a model call: nothing is logged or charged, as
 * Anthropic charges nothing for it.
 */
export async function countWithUpstream(deployment: CompiledDeployment, request: UpstreamRequest, redactor: SecretRedactor): Promise<Record<string, unknown>> {
  const answer = await askUpstream(deployment, { method: 'POST', path: request.path, headers: request.headers, body: request.body.toString() }, redactor, MAX_ANSWER_BYTES);
  let count: unknown;
  try {
    count = JSON.parse(answer.toString('utf8'));
  } catch {
    count = null;
  }
  const tokens = (count as { input_tokens?: unknown } | null)?.input_tokens;
  if (typeof tokens !== 'number' || !Number.isInteger(tokens) || tokens < 0) {
    throw new AppException('upstream_protocol_error', `${deployment.providerLabel} upstream answered the token count without a count`);
  }
  return count as Record<string, unknown>;
}
