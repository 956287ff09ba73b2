/**
 * What Google checks of a `generateContent` body before it answers, as the fake does it: every field name must
 * be one of the API's (snake_case or camelCase; "Invalid JSON payload received. Unknown name ... Cannot find
 * field."), roles are `user` or `model`, `contents` is not empty, and an OBJECT schema that lists `properties`
 * lists at least one. Returns Google's error message, or null when Google would accept the body.
 */

type Shape = 'any' | { readonly fields: Readonly<Record<string, Shape | (() => Shape)>> } | { readonly list: Shape | (() => Shape) } | { readonly map: () => Shape };

const ANY: Shape = 'any';
const list = (item: Shape | (() => Shape)): Shape => ({ list: item });
const fields = (spec: Record<string, Shape | (() => Shape)>): Shape => ({ fields: spec });

const SCHEMA: Shape = fields({
  type: ANY,
  format: ANY,
  title: ANY,
  description: ANY,
  nullable: ANY,
  enum: ANY,
  maxItems: ANY,
  minItems: ANY,
  properties: { map: () => SCHEMA },
  required: ANY,
  minProperties: ANY,
  maxProperties: ANY,
  minLength: ANY,
  maxLength: ANY,
  pattern: ANY,
  example: ANY,
  anyOf: list(() => SCHEMA),
  propertyOrdering: ANY,
  default: ANY,
  items: () => SCHEMA,
  minimum: ANY,
  maximum: ANY,
});

const PART = fields({
  text: ANY,
  thought: ANY,
  thoughtSignature: ANY,
  inlineData: fields({ mimeType: ANY, data: ANY }),
  fileData: fields({ mimeType: ANY, fileUri: ANY }),
  functionCall: fields({ id: ANY, name: ANY, args: ANY }),
  functionResponse: fields({ id: ANY, name: ANY, response: ANY }),
  executableCode: ANY,
  codeExecutionResult: ANY,
  videoMetadata: ANY,
});

const CONTENT = fields({ role: ANY, parts: list(PART) });

const REQUEST = fields({
  model: ANY,
  contents: list(CONTENT),
  systemInstruction: CONTENT,
  tools: list(
    fields({
      functionDeclarations: list(fields({ name: ANY, description: ANY, parameters: SCHEMA, parametersJsonSchema: ANY, response: SCHEMA, responseJsonSchema: ANY })),
      googleSearch: ANY,
      googleSearchRetrieval: ANY,
      codeExecution: ANY,
      urlContext: ANY,
      enterpriseWebSearch: ANY,
    }),
  ),
  toolConfig: fields({ functionCallingConfig: fields({ mode: ANY, allowedFunctionNames: ANY }) }),
  safetySettings: list(fields({ category: ANY, threshold: ANY, method: ANY })),
  generationConfig: fields({
    stopSequences: ANY,
    responseMimeType: ANY,
    responseSchema: SCHEMA,
    responseJsonSchema: ANY,
    responseModalities: ANY,
    candidateCount: ANY,
    maxOutputTokens: ANY,
    temperature: ANY,
    topP: ANY,
    topK: ANY,
    seed: ANY,
    presencePenalty: ANY,
    frequencyPenalty: ANY,
    responseLogprobs: ANY,
    logprobs: ANY,
    thinkingConfig: fields({ includeThoughts: ANY, thinkingBudget: ANY, thinkingLevel: ANY }),
    mediaResolution: ANY,
  }),
  cachedContent: ANY,
  labels: ANY,
});

const camel = (name: string): string => name.replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());
const snake = (name: string): string => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

export function checkGenerateContentRequest(body: unknown): string | null {
  const unknownField = findUnknownField(body, REQUEST, '');
  if (unknownField !== null) return unknownField;
  const request = body as Record<string, unknown>;
  const contents = request.contents;
  if (!Array.isArray(contents) || contents.length === 0) return '* GenerateContentRequest.contents: contents is not specified\n';
  for (const content of contents as Array<Record<string, unknown>>) {
    if (content.role !== undefined && content.role !== 'user' && content.role !== 'model') return 'Please use a valid role: user, model.';
    if (!Array.isArray(content.parts) || content.parts.length === 0) return '* GenerateContentRequest.contents.parts: contents.parts must not be empty.\n';
  }
  const tools = (request.tools ?? []) as Array<Record<string, unknown>>;
  for (const [toolIndex, tool] of tools.entries()) {
    const declarations = (tool.functionDeclarations ?? tool.function_declarations ?? []) as Array<Record<string, unknown>>;
    for (const [index, declaration] of declarations.entries()) {
      const empty = findEmptyObject(declaration.parameters, `tools[${toolIndex}].function_declarations[${index}].parameters`);
      if (empty !== null) return `* GenerateContentRequest.${empty}.properties: should be non-empty for OBJECT type\n`;
    }
  }
  return null;
}

function findUnknownField(value: unknown, shape: Shape | (() => Shape), path: string): string | null {
  const resolved = typeof shape === 'function' ? shape() : shape;
  if (resolved === 'any' || value === null || typeof value !== 'object') return null;
  if ('list' in resolved) {
    if (!Array.isArray(value)) return null;
    for (const [index, item] of value.entries()) {
      const found = findUnknownField(item, resolved.list, `${path}[${index}]`);
      if (found !== null) return found;
    }
    return null;
  }
  if ('map' in resolved) {
    for (const [name, item] of Object.entries(value)) {
      const found = findUnknownField(item, resolved.map(), `${path}.${name}`);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [name, item] of Object.entries(value)) {
    const spec = resolved.fields[camel(name)];
    if (spec === undefined) {
      return `Invalid JSON payload received. Unknown name "${name}" at '${snake(path.replace(/^\./, '')) || 'request'}': Cannot find field.`;
    }
    const found = findUnknownField(item, spec, `${path}.${name}`);
    if (found !== null) return found;
  }
  return null;
}

function findEmptyObject(schema: unknown, path: string): string | null {
  if (schema === null || typeof schema !== 'object') return null;
  const node = schema as Record<string, unknown>;
  const properties = node.properties as Record<string, unknown> | undefined;
  if (String(node.type).toUpperCase() === 'OBJECT' && properties !== undefined && Object.keys(properties).length === 0) return path;
  for (const [name, child] of Object.entries(properties ?? {})) {
    const found = findEmptyObject(child, `${path}.properties[${name}]`);
    if (found !== null) return found;
  }
  return findEmptyObject(node.items, `${path}.items`);
}
