import { randomBytes } from 'node:crypto';

/**
 * Google's function calls carry no id; OpenAI's tool calls need one, and the caller sends it back with the
 * tool's result. A Gemini 3 function call also carries a thought signature that must come back with it in the
 * next turn, so the signature rides inside the id: OpenAI clients echo ids untouched.
 */
const SIGNATURE_MARK = '__thought__';

export function newToolCallId(thoughtSignature: string | undefined): string {
  const id = `call_${randomBytes(12).toString('hex')}`;
  return thoughtSignature === undefined || thoughtSignature === '' ? id : `${id}${SIGNATURE_MARK}${thoughtSignature}`;
}

/** The thought signature a tool call id carries, if it was made by `newToolCallId`. */
export function thoughtSignatureOf(id: unknown): string | undefined {
  if (typeof id !== 'string') return undefined;
  const at = id.indexOf(SIGNATURE_MARK);
  return at < 0 ? undefined : id.slice(at + SIGNATURE_MARK.length) || undefined;
}
