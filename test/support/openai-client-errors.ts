import OpenAI from 'openai';

/** What the official `openai` client throws for an error answer: the HTTP status, headers and the envelope's fields. */
export type OpenAiApiError = InstanceType<typeof OpenAI.APIError>;

/** The error a call that must fail threw; fails the test when it succeeded or threw something else. */
export async function apiErrorOf(promise: Promise<unknown>): Promise<OpenAiApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error;
    throw error;
  }
  throw new Error('the call succeeded');
}
