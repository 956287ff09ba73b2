import type { ProviderCall } from '../provider';

/** The three calls on one model resource: `{model}:generateContent`, `:streamGenerateContent?alt=sse`, and embeddings. */
export interface ModelPaths {
  readonly chat: string;
  readonly stream: string;
  readonly embeddings: string;
}

/** `modelPath` is the model resource (`.../models/gemini-2.5-flash`); `search` the configured URL's own query, kept. */
export function modelPaths(modelPath: string, search: string, embeddingsMethod: string): ModelPaths {
  const query = new URLSearchParams(search);
  const plain = query.size > 0 ? `?${query.toString()}` : '';
  query.set('alt', 'sse');
  return {
    chat: `${modelPath}:generateContent${plain}`,
    stream: `${modelPath}:streamGenerateContent?${query.toString()}`,
    embeddings: `${modelPath}:${embeddingsMethod}${plain}`,
  };
}

export function pathFor(paths: ModelPaths, call: ProviderCall): string {
  if (call.endpoint !== 'chat') return paths.embeddings;
  return call.stream ? paths.stream : paths.chat;
}
