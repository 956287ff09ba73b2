/**
 * The parts of Google's `generateContent` wire format (Gemini API and Vertex AI speak the same one) that the
 * gateway writes or reads. Field names are the REST API's camelCase.
 */
export interface GooglePart {
  text?: string;
  /** A thought summary (`includeThoughts`), not part of the answer. */
  thought?: boolean;
  /** Opaque; Gemini 3 wants it back on the function call it came with. */
  thoughtSignature?: string;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType?: string; fileUri: string };
  functionCall?: { name: string; args?: Record<string, unknown> };
  functionResponse?: { name: string; response: Record<string, unknown> };
}

export interface GoogleContent {
  role?: 'user' | 'model';
  parts: GooglePart[];
}

export interface GenerateContentRequest {
  contents: GoogleContent[];
  systemInstruction?: { parts: GooglePart[] };
  tools?: Array<Record<string, unknown>>;
  toolConfig?: { functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] } };
  generationConfig?: Record<string, unknown>;
  safetySettings?: unknown;
}

export interface GoogleCandidate {
  index?: number;
  content?: { role?: string; parts?: GooglePart[] };
  finishReason?: string;
}

export interface UsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  cachedContentTokenCount?: number;
  totalTokenCount?: number;
}

export interface GenerateContentResponse {
  candidates?: GoogleCandidate[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: UsageMetadata;
  modelVersion?: string;
  responseId?: string;
  createTime?: string;
}
