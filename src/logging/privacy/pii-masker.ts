import { isIPv6 } from 'node:net';
import { RE2JS, RE2Set } from 're2js';
import type { StandardLoggingPayload } from '../standard-logging-payload';
import { compileCustomPattern } from './custom-pattern';

export const PII_DETECTORS = ['email', 'phone', 'credit_card', 'iban', 'ip_address', 'api_key', 'aws_access_key', 'jwt'] as const;
export type PiiDetector = (typeof PII_DETECTORS)[number];

export interface CustomPiiPattern {
  /** Names the placeholder: `employee_id` → `[EMPLOYEE_ID]`. */
  readonly name: string;
  readonly regex: string;
}

/** A team's or key's `pii_masking`, validated (see privacy-settings.ts). */
export interface PiiMaskingConfig {
  readonly detectors: readonly PiiDetector[];
  readonly patterns: readonly CustomPiiPattern[];
}

/** A built-in detector: our own JavaScript regex, written and reviewed to match in linear time (see the spec). */
interface Rule {
  readonly placeholder: string;
  readonly regex: RegExp;
  /** Cheap test that the text can hold a match at all: most strings skip the regex. */
  readonly mayContain?: (text: string) => boolean;
  /** Rejects look-alikes the regex cannot tell apart (a Luhn or mod-97 check, a real IPv6 address). */
  readonly accept?: (match: string) => boolean;
}

const hasDigit = (text: string): boolean => /\d/.test(text);
const IPV6_HINT = /[A-Fa-f0-9]:[A-Fa-f0-9:]|::/;
const IPV4_HINT = /\d\.\d{1,3}\.\d/;

/**
 * Built-in detectors, in the order they run: the most specific shapes first, so a JWT is one `[JWT]` and not
 * three fragments, and a card number is a card before the phone detector sees a run of digits. They stay on V8's
 * engine: several need lookaround, which RE2 lacks, and V8 runs them several times faster than re2js.
 */
const BUILT_IN: { readonly [D in PiiDetector]: Rule | readonly Rule[] } = {
  jwt: {
    placeholder: '[JWT]',
    regex: /\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g,
    mayContain: (text) => text.includes('eyJ'),
  },
  api_key: {
    placeholder: '[API_KEY]',
    // OpenAI/Anthropic/Gatehouse style `sk-…`, GitHub tokens, Slack tokens, Google API keys.
    regex: /\b(?:(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}|gh[opsur]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35})/g,
  },
  aws_access_key: {
    placeholder: '[AWS_ACCESS_KEY]',
    regex: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|APKA)[A-Z0-9]{16}\b/g,
  },
  email: {
    placeholder: '[EMAIL]',
    // Starts only where a run of address characters starts: tried from inside a long run with no `@` after it,
    // every start would scan the rest of the run again (quadratic: 11 s for 80 kB of letters and one `@`).
    regex: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g,
    mayContain: (text) => text.includes('@'),
  },
  iban: {
    placeholder: '[IBAN]',
    regex: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/g,
    mayContain: hasDigit,
    accept: ibanChecksumOk,
  },
  credit_card: {
    placeholder: '[CREDIT_CARD]',
    regex: /(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)/g,
    mayContain: hasDigit,
    accept: luhnOk,
  },
  ip_address: [
    {
      placeholder: '[IP_ADDRESS]',
      // IPv6 first (an embedded IPv4 stays part of it); times like 12:30:45 fail the isIPv6 check.
      regex: /(?<![\w:.])(?:[A-Fa-f0-9]{0,4}:){2,7}(?:[A-Fa-f0-9]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])/g,
      // The regex can start anywhere; most text has no "hex:hex" or "::" at all.
      mayContain: (text) => IPV6_HINT.test(text),
      accept: (match) => isIPv6(match),
    },
    {
      placeholder: '[IP_ADDRESS]',
      regex: /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)/g,
      mayContain: (text) => IPV4_HINT.test(text),
      accept: (match) => match.split('.').every((part) => Number(part) <= 255),
    },
  ],
  phone: {
    placeholder: '[PHONE]',
    // International or national numbers written with separators: +1 415-555-0132, (415) 555-0132, 030 1234567.
    regex: /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,5}(?:[ .-]\d{2,5}){1,4}(?![\w-])|(?<![\w+])\+\d{9,15}(?!\w)/g,
    mayContain: hasDigit,
    accept: (match) => {
      const digits = match.replace(/\D/g, '').length;
      return digits >= 9 && digits <= 15; // fewer is a date or an amount more often than a number to call
    },
  },
};

/** Detectors in their running order (BUILT_IN's key order). */
const DETECTOR_ORDER = Object.keys(BUILT_IN) as PiiDetector[];

function luhnOk(match: string): boolean {
  const digits = match.replace(/\D/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

function ibanChecksumOk(match: string): boolean {
  const iban = match.replace(/ /g, '');
  if (iban.length < 15 || iban.length > 34) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const value = char >= 'A' && char <= 'Z' ? String(char.charCodeAt(0) - 55) : char;
    for (const digit of value) remainder = (remainder * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return remainder === 1;
}

export function placeholderFor(name: string): string {
  return `[${name.toUpperCase()}]`;
}

type Masking = (text: string) => string;

function builtInMasking(rule: Rule): Masking {
  const { regex, placeholder, mayContain, accept } = rule;
  return (text) => {
    if (mayContain !== undefined && !mayContain(text)) return text;
    regex.lastIndex = 0;
    return accept === undefined ? text.replace(regex, placeholder) : text.replace(regex, (match: string) => (accept(match) ? placeholder : match));
  };
}

/**
 * From this many custom patterns on, one pass of an RE2 set over a text decides whether any matches. Below it
 * each pattern's own DFA test is cheaper: one with a literal prefix (`EMP-`) is a string search. Measured on
 * scenario 11's 4 kB conversation: 2 prefixed patterns 4 µs tested one by one against 71 µs for the set's pass;
 * 10 mixed ones 130 µs either way; 20 mixed ones 209 µs against 69 µs.
 */
const SET_FROM = 8;

/** A team's or key's own patterns, in their order, on RE2: linear in the text whatever the pattern (custom-pattern.ts). */
function customMasking(patterns: readonly CustomPiiPattern[]): Masking {
  const rules = patterns.map((pattern) => ({ regex: compileCustomPattern(pattern.regex), replacement: RE2JS.quoteReplacement(placeholderFor(pattern.name)) }));
  const anyMatch = patterns.length >= SET_FROM ? setMatcher(patterns) : (text: string) => rules.some(({ regex }) => regex.test(text));
  return (text) => {
    // Most texts hold none of a team's identifiers. Otherwise each pattern runs in turn on what the previous ones
    // left, its DFA test first and its slower search (which finds where) only on a hit.
    if (!anyMatch(text)) return text;
    let out = text;
    for (const { regex, replacement } of rules) if (regex.test(out)) out = regex.matcher(out).replaceAll(replacement);
    return out;
  };
}

function setMatcher(patterns: readonly CustomPiiPattern[]): (text: string) => boolean {
  const set = new RE2Set();
  for (const pattern of patterns) set.add(pattern.regex);
  set.compile();
  return (text) => set.match(text).length > 0;
}

/**
 * Masks personal data in what destinations receive: messages (or embedding input), the answer (including
 * streamed text and tool-call arguments) and the error text. Every string inside them is scanned, so content
 * parts, tool calls and function arguments are covered without knowing each provider's shape. Runs on the
 * delivery thread, never on the request loop.
 */
export class PiiMasker {
  private readonly steps: readonly Masking[];

  /** Throws when a custom pattern does not compile (see `maskedRows` for what happens then). */
  constructor(config: PiiMaskingConfig) {
    // The team's own patterns first: they name what it knows best (its employee ids, its customer numbers).
    const custom = config.patterns.length > 0 ? [customMasking(config.patterns)] : [];
    const builtIn = DETECTOR_ORDER.filter((name) => config.detectors.includes(name)).flatMap((name) => BUILT_IN[name]).map(builtInMasking);
    this.steps = [...custom, ...builtIn];
  }

  maskText(text: string): string {
    let out = text;
    for (const step of this.steps) out = step(out);
    return out;
  }

  maskPayload(payload: StandardLoggingPayload): StandardLoggingPayload {
    return {
      ...payload,
      messages: this.maskValue(payload.messages),
      response: this.maskValue(payload.response),
      error_str: payload.error_str === null ? null : this.maskText(payload.error_str),
      error_information:
        payload.error_information === null ? null : { ...payload.error_information, error_message: this.maskText(payload.error_information.error_message) },
    };
  }

  private maskValue(value: unknown): unknown {
    if (typeof value === 'string') return this.maskText(value);
    if (Array.isArray(value)) return value.map((item) => this.maskValue(item));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(value)) out[key] = this.maskValue(inner);
      return out;
    }
    return value;
  }
}

/** One compiled masker per distinct configuration: teams share theirs across every event. */
export class PiiMaskerCache {
  private readonly maskers = new Map<string, PiiMasker>();

  constructor(private readonly capacity = 256) {}

  get(config: PiiMaskingConfig): PiiMasker {
    const id = JSON.stringify(config);
    let masker = this.maskers.get(id);
    if (masker === undefined) {
      if (this.maskers.size >= this.capacity) this.maskers.delete(this.maskers.keys().next().value as string);
      masker = new PiiMasker(config);
      this.maskers.set(id, masker);
    }
    return masker;
  }
}
