import { readUsage, type TokenUsage } from './usage';

export interface AssembledToolCall {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}

export interface AssembledChoice {
  index: number;
  message: {
    role: string;
    content: string | null;
    tool_calls?: AssembledToolCall[];
    refusal?: string;
    /** A reasoning model's thoughts, as DeepSeek, vLLM and the translating providers stream them (`delta.reasoning_content`). */
    reasoning_content?: string;
  };
  finish_reason: string | null;
}

/** A `chat.completion`-shaped object rebuilt from stream chunks, for the call record. */
export interface AssembledCompletion {
  id: string | null;
  object: 'chat.completion';
  created: number | null;
  model: string | null;
  system_fingerprint?: string;
  choices: AssembledChoice[];
  usage: TokenUsage | null;
}

export interface AssemblyResult {
  completion: AssembledCompletion;
  /** Events that were not valid JSON; non-zero means the upstream broke the protocol. */
  malformedEvents: number;
}

interface ChoiceState {
  index: number;
  role: string;
  content: string;
  hasContent: boolean;
  refusal: string;
  reasoning: string;
  finishReason: string | null;
  toolCalls: Map<number, AssembledToolCall>;
}

/** Runs after the stream was delivered, so it may parse every chunk without delaying the caller. */
export function assembleStream(dataEvents: readonly string[]): AssemblyResult {
  const completion: AssembledCompletion = {
    id: null,
    object: 'chat.completion',
    created: null,
    model: null,
    choices: [],
    usage: null,
  };
  const choices = new Map<number, ChoiceState>();
  let malformed = 0;

  for (const data of dataEvents) {
    let chunk: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(data);
      if (parsed === null || typeof parsed !== 'object') {
        malformed++;
        continue;
      }
      chunk = parsed as Record<string, unknown>;
    } catch {
      malformed++;
      continue;
    }
    // Azure's first chunk (prompt_filter_results, no choices) has an empty id and model and `created: 0`.
    if (completion.id === null && typeof chunk.id === 'string' && chunk.id !== '') {
      completion.id = chunk.id;
    }
    if (completion.created === null && typeof chunk.created === 'number' && chunk.created > 0) {
      completion.created = chunk.created;
    }
    if (completion.model === null && typeof chunk.model === 'string' && chunk.model !== '') {
      completion.model = chunk.model;
    }
    if (completion.system_fingerprint === undefined && typeof chunk.system_fingerprint === 'string') {
      completion.system_fingerprint = chunk.system_fingerprint;
    }
    const usage = readUsage(chunk.usage);
    if (usage) {
      completion.usage = usage;
    }
    if (Array.isArray(chunk.choices)) {
      for (const raw of chunk.choices) {
        if (raw !== null && typeof raw === 'object') {
          applyChoiceDelta(choices, raw as Record<string, unknown>);
        }
      }
    }
  }

  completion.choices = [...choices.values()]
    .sort((a, b) => a.index - b.index)
    .map((state) => {
      const message: AssembledChoice['message'] = {
        role: state.role,
        content: state.hasContent ? state.content : null,
      };
      if (state.toolCalls.size > 0) {
        message.tool_calls = [...state.toolCalls.entries()].sort((a, b) => a[0] - b[0]).map((entry) => entry[1]);
      }
      if (state.refusal !== '') {
        message.refusal = state.refusal;
      }
      if (state.reasoning !== '') {
        message.reasoning_content = state.reasoning;
      }
      return { index: state.index, message, finish_reason: state.finishReason };
    });
  return { completion, malformedEvents: malformed };
}

function applyChoiceDelta(choices: Map<number, ChoiceState>, choice: Record<string, unknown>): void {
  const index = typeof choice.index === 'number' ? choice.index : 0;
  let state = choices.get(index);
  if (!state) {
    state = {
      index,
      role: 'assistant',
      content: '',
      hasContent: false,
      refusal: '',
      reasoning: '',
      finishReason: null,
      toolCalls: new Map(),
    };
    choices.set(index, state);
  }
  if (typeof choice.finish_reason === 'string') {
    state.finishReason = choice.finish_reason;
  }
  const delta = choice.delta;
  if (delta === null || typeof delta !== 'object') {
    return;
  }
  const d = delta as Record<string, unknown>;
  if (typeof d.role === 'string') {
    state.role = d.role;
  }
  if (typeof d.content === 'string') {
    state.content += d.content;
    state.hasContent = true;
  }
  if (typeof d.refusal === 'string') {
    state.refusal += d.refusal;
  }
  if (typeof d.reasoning_content === 'string') {
    state.reasoning += d.reasoning_content;
  }
  if (Array.isArray(d.tool_calls)) {
    for (const raw of d.tool_calls) {
      if (raw !== null && typeof raw === 'object') {
        applyToolCallDelta(state.toolCalls, raw as Record<string, unknown>);
      }
    }
  }
}

/** Tool calls arrive as fragments keyed by `index`: id/name once, `arguments` in pieces. */
function applyToolCallDelta(calls: Map<number, AssembledToolCall>, delta: Record<string, unknown>): void {
  const index = typeof delta.index === 'number' ? delta.index : calls.size;
  let call = calls.get(index);
  if (!call) {
    call = { id: '', type: 'function', function: { name: '', arguments: '' } };
    calls.set(index, call);
  }
  if (typeof delta.id === 'string') {
    call.id = delta.id;
  }
  if (typeof delta.type === 'string') {
    call.type = delta.type;
  }
  const fn = delta.function;
  if (fn !== null && typeof fn === 'object') {
    const f = fn as Record<string, unknown>;
    if (typeof f.name === 'string') {
      call.function.name += f.name;
    }
    if (typeof f.arguments === 'string') {
      call.function.arguments += f.arguments;
    }
  }
}
