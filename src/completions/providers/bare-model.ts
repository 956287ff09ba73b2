import { PROFILE_PREFIX } from './bedrock/model-id';

/** Bedrock model ids: `<vendor>.<model>` (`anthropic.claude-…-v1:0`, `meta.llama3-…`), or an ARN of Bedrock's. */
const BEDROCK_MODEL_ID = /^(?:(?:ai21|amazon|anthropic|cohere|deepseek|meta|mistral|qwen|stability|twelvelabs|writer)\.[a-z0-9]|arn:aws[a-z-]*:bedrock:)/;

/**
 * The provider of a `model:` written without a prefix, as LiteLLM infers it from the model's name: Claude models are
 * Anthropic's, Bedrock model ids (plain or behind a cross-region profile) Bedrock's, Gemini models Vertex AI's (LiteLLM's
 * choice; the Gemini API is `gemini/`), anything else OpenAI's. Taking every bare name for OpenAI would send an
 * Anthropic or AWS credential to api.openai.com.
 */
export function providerOfBareModel(model: string): string {
  const name = model.toLowerCase();
  if (name.startsWith('claude-')) return 'anthropic';
  if (BEDROCK_MODEL_ID.test(name.replace(PROFILE_PREFIX, ''))) return 'bedrock';
  if (name.startsWith('gemini-')) return 'vertex_ai';
  return 'openai';
}
