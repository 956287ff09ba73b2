/**
 * What Anthropic checks of a Messages body before it answers, as the fake does it: the required fields, no field it
 * does not know ("Extra inputs are not permitted"), only `user` and `assistant` turns, alternating, no empty text,
 * and every `tool_result` answering a `tool_use` of the turn before (and every `tool_use` answered in the next turn).
 * Returns Anthropic's error message, or null when Anthropic would accept the body.
 */

type Json = Record<string, unknown>;

const TOP_LEVEL = new Set([
  'model',
  'messages',
  'max_tokens',
  'system',
  'metadata',
  'stop_sequences',
  'stream',
  'temperature',
  'top_p',
  'top_k',
  'tools',
  'tool_choice',
  'thinking',
  'service_tier',
  'container',
  'mcp_servers',
  'context_management',
]);
const TOOL_CHOICES = new Set(['auto', 'any', 'tool', 'none']);

export function checkMessagesRequest(body: unknown): string | null {
  if (!isObject(body)) return 'Input should be a valid dictionary';
  const extra = Object.keys(body).find((name) => !TOP_LEVEL.has(name));
  if (extra !== undefined) return `${extra}: Extra inputs are not permitted`;
  if (typeof body.model !== 'string' || body.model === '') return 'model: Field required';
  if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1) return 'max_tokens: Field required';
  if (body.temperature !== undefined && (typeof body.temperature !== 'number' || body.temperature < 0 || body.temperature > 1)) return 'temperature: Input should be less than or equal to 1';
  if (body.stop_sequences !== undefined) {
    if (!Array.isArray(body.stop_sequences) || !body.stop_sequences.every((s) => typeof s === 'string' && s.trim() !== '')) return 'stop_sequences: each stop sequence must contain non-whitespace';
  }
  if (body.metadata !== undefined) {
    if (!isObject(body.metadata)) return 'metadata: Input should be a valid dictionary';
    const field = Object.keys(body.metadata).find((name) => name !== 'user_id');
    if (field !== undefined) return `metadata.${field}: Extra inputs are not permitted`;
  }
  return checkSystem(body.system) ?? checkTools(body) ?? checkMessages(body.messages);
}

function checkSystem(system: unknown): string | null {
  if (system === undefined || typeof system === 'string') return null;
  if (!Array.isArray(system)) return 'system: Input should be a valid list';
  const bad = system.findIndex((block) => !isObject(block) || block.type !== 'text' || typeof block.text !== 'string' || block.text === '');
  return bad < 0 ? null : `system.${bad}: system text blocks must be non-empty text blocks`;
}

function checkTools(body: Json): string | null {
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) return 'tools: Input should be a valid list';
    for (const [i, tool] of body.tools.entries()) {
      if (!isObject(tool) || typeof tool.name !== 'string' || !/^[a-zA-Z0-9_-]{1,128}$/.test(tool.name)) return `tools.${i}.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`;
      if (!isObject(tool.input_schema)) return `tools.${i}.input_schema: Field required`;
      if (tool.input_schema.type !== 'object') return `tools.${i}.input_schema.type: Input should be 'object'`;
      const extra = Object.keys(tool).find((name) => !['name', 'description', 'input_schema', 'cache_control', 'type'].includes(name));
      if (extra !== undefined) return `tools.${i}.${extra}: Extra inputs are not permitted`;
    }
  }
  if (body.tool_choice !== undefined) {
    const choice = body.tool_choice;
    if (!isObject(choice) || !TOOL_CHOICES.has(choice.type as string)) return "tool_choice: Input tag does not match any of the expected tags: 'auto', 'any', 'tool', 'none'";
    if (choice.type === 'tool' && typeof choice.name !== 'string') return 'tool_choice.tool.name: Field required';
    if (body.tools === undefined && choice.type !== 'none') return 'tool_choice: tool_choice may only be specified while providing tools.';
  }
  return null;
}

function checkMessages(messages: unknown): string | null {
  if (!Array.isArray(messages)) return 'messages: Field required';
  if (messages.length === 0) return 'messages: at least one message is required';
  let previousToolUses: string[] = [];
  for (const [i, raw] of messages.entries()) {
    if (!isObject(raw)) return `messages.${i}: Input should be a valid dictionary`;
    const role = raw.role;
    if (role === 'system') return `messages.${i}.role: Unexpected role "system". The Messages API accepts a top-level \`system\` parameter, not "system" as an input message role.`;
    if (role !== 'user' && role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    if (i > 0 && (messages[i - 1] as Json).role === role) return `messages: roles must alternate between "user" and "assistant", but found multiple "${role}" roles in a row`;
    const blocks = typeof raw.content === 'string' ? [{ type: 'text', text: raw.content }] : raw.content;
    if (!Array.isArray(blocks) || blocks.length === 0) return `messages.${i}.content: Input should be a valid list`;
    const toolUses: string[] = [];
    const answered = new Set<string>();
    for (const [j, block] of blocks.entries()) {
      const problem = checkBlock(block, `messages.${i}.content.${j}`, role);
      if (problem !== null) return problem;
      const b = block as Json;
      if (b.type === 'tool_use') toolUses.push(b.id as string);
      if (b.type === 'tool_result') {
        const id = b.tool_use_id as string;
        if (!previousToolUses.includes(id)) {
          return `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
        }
        answered.add(id);
      }
    }
    const unanswered = previousToolUses.filter((id) => !answered.has(id));
    if (unanswered.length > 0) {
      return `messages.${i - 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${unanswered.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
    }
    previousToolUses = toolUses;
  }
  return null;
}

function checkBlock(block: unknown, path: string, role: string): string | null {
  if (!isObject(block)) return `${path}: Input should be a valid dictionary`;
  switch (block.type) {
    case 'text':
      return typeof block.text === 'string' && block.text.trim() !== '' ? null : `${path}: text content blocks must contain non-whitespace text`;
    case 'image': {
      const source = block.source;
      if (!isObject(source)) return `${path}.source: Field required`;
      if (source.type === 'base64') {
        return ['image/jpeg', 'image/png', 'image/gif', 'image/webp'].includes(source.media_type as string) && typeof source.data === 'string'
          ? null
          : `${path}.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'`;
      }
      return source.type === 'url' && typeof source.url === 'string' ? null : `${path}.source: Input tag does not match any of the expected tags: 'base64', 'url', 'file'`;
    }
    case 'tool_use':
      if (role !== 'assistant') return `${path}: tool_use blocks are only allowed in assistant messages`;
      return typeof block.id === 'string' && typeof block.name === 'string' && isObject(block.input) ? null : `${path}.input: Input should be a valid dictionary`;
    case 'tool_result':
      if (role !== 'user') return `${path}: tool_result blocks are only allowed in user messages`;
      return typeof block.tool_use_id === 'string' ? null : `${path}.tool_use_id: Field required`;
    case 'thinking':
    case 'redacted_thinking':
      return role === 'assistant' ? null : `${path}: thinking blocks are only allowed in assistant messages`;
    default:
      return `${path}: Input tag '${String(block.type)}' found using 'type' does not match any of the expected tags`;
  }
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
