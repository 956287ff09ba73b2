import type { RecordedStream } from './call-payload';
import type { OpenAiChunk } from './providers/provider';

/**
 * The client side of a translated stream: OpenAI chunks made by a provider's StreamTranslator are written as
 * server-sent events and kept, as their JSON text, for the call record and the cache — the same record an OpenAI
 * stream relayed by SseRelay leaves. The usage chunk translators end with is recorded always and sent only to
 * callers who asked for it (`stream_options.include_usage`), as OpenAI does.
 */
export class ChunkRelay implements RecordedStream {
  readonly dataEvents: string[] = [];
  firstTokenAt = 0;

  constructor(private readonly includeUsage: boolean) {}

  /** The SSE text for these chunks (possibly empty). */
  write(chunks: readonly OpenAiChunk[]): string {
    let out = '';
    for (const chunk of chunks) {
      const data = JSON.stringify(chunk);
      this.dataEvents.push(data);
      const usageOnly = Array.isArray(chunk.choices) && chunk.choices.length === 0 && chunk.usage !== undefined && chunk.usage !== null;
      if (usageOnly) {
        if (!this.includeUsage) continue;
      } else if (this.firstTokenAt === 0) {
        this.firstTokenAt = Date.now();
      }
      out += `data: ${data}\n\n`;
    }
    return out;
  }
}
