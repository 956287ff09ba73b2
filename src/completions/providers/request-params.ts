import { AppException } from '../../errors';
import type { RequestBody } from '../request-body';

/**
 * Reading an OpenAI request for a provider that translates it: what it cannot read is the caller's 400, naming the
 * field (`messages[2].content[0].image_url.url`), before any call.
 */
export function invalid(param: string, problem: string): AppException {
  return new AppException('validation_failed', `\`${param}\` ${problem}`, { param });
}

export function objectParam(value: unknown, path: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(path, 'must be an object');
  return value as Record<string, unknown>;
}

/** A number field of the body; absent or null reads as undefined. */
export function numberParam(body: RequestBody, name: string): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(name, 'must be a number');
  return value;
}

/** A turn of a provider's conversation that alternates user and assistant turns (Anthropic's, Bedrock's Converse). */
export interface Turn {
  role: 'user' | 'assistant';
  content: Array<Record<string, unknown>>;
}

/** Appends a message's blocks as a turn; a message of the same role as the turn before joins it (the roles must alternate). */
export function addTurn(turns: Turn[], role: Turn['role'], content: Array<Record<string, unknown>>): void {
  if (content.length === 0) return;
  const last = turns[turns.length - 1];
  if (last !== undefined && last.role === role) last.content.push(...content);
  else turns.push({ role, content });
}

/**
 * The text of a system, developer or assistant message, part by part: a string (one part, `part` null) or an array
 * of text (or refusal) parts, each with the part it came from (for its `cache_control`). Empty texts are included:
 * providers refuse empty text blocks and leave them out, but a part's cache marker still counts.
 */
export function messageTexts(message: Record<string, unknown>, path: string): Array<{ text: string; part: Record<string, unknown> | null }> {
  const content = message.content;
  if (typeof content === 'string') return [{ text: content, part: null }];
  if (content === undefined || content === null) return [];
  if (!Array.isArray(content)) throw invalid(`${path}.content`, 'must be a string or an array of content parts');
  return content.map((raw, j) => {
    const part = objectParam(raw, `${path}.content[${j}]`);
    if (part.type !== 'text' && part.type !== 'refusal') throw invalid(`${path}.content[${j}].type`, 'must be text here');
    const text = part.type === 'text' ? part.text : part.refusal;
    if (typeof text !== 'string') throw invalid(`${path}.content[${j}].text`, 'must be a string');
    return { text, part };
  });
}
