import { anthropicProvider } from './anthropic/anthropic.provider';
import { azureProvider } from './azure/azure.provider';
import { bedrockProvider } from './bedrock/bedrock.provider';
import { geminiProvider } from './google/gemini.provider';
import { vertexProvider } from './google/vertex.provider';
import { ollamaProvider } from './ollama/ollama.provider';
import { openAiProvider } from './openai/openai.provider';
import type { Provider } from './provider';

/** Every upstream provider; a new one is a folder under `providers/` and a line here. */
export const PROVIDERS: readonly Provider[] = [openAiProvider, azureProvider, anthropicProvider, bedrockProvider, geminiProvider, vertexProvider, ollamaProvider];

/** The built-in offline provider: answered by the gateway itself (`mock/<anything>`, or any entry with `mock_response`). */
export const MOCK_PREFIX = 'mock';

const BY_PREFIX = new Map<string, Provider>(PROVIDERS.flatMap((provider) => provider.prefixes.map((prefix) => [prefix, provider] as const)));

export function providerFor(prefix: string): Provider | undefined {
  return BY_PREFIX.get(prefix);
}

/** Every `model:` prefix Gatehouse accepts, for config validation and its error messages. */
export const SUPPORTED_PREFIXES: readonly string[] = [...BY_PREFIX.keys(), MOCK_PREFIX].sort();
