import { samplePayload } from '../../../test/support/fakes/sample-payload';
import type { HandedOverEvent } from '../delivery/delivery-thread.protocol';
import type { OwnedEntry } from '../logging-entry';
import { maskedRows } from './mask-events';
import { REDACTED_MARKER } from './payload-redaction';
import { PII_DETECTORS, PiiMasker, PiiMaskerCache, type PiiDetector } from './pii-masker';

const all = new PiiMasker({ detectors: PII_DETECTORS, patterns: [] });

/** Real-looking samples of every detector: each must be replaced by its placeholder, and only it. */
const SAMPLES: ReadonlyArray<[string, string, string]> = [
  ['email', 'write to jane.doe+billing@example-corp.co.uk today', 'write to [EMAIL] today'],
  ['phone (US)', 'call +1 415-555-0132 now', 'call [PHONE] now'],
  ['phone (national, parentheses)', 'office (415) 555-0132.', 'office [PHONE].'],
  ['phone (UK)', 'ring +44 20 7946 0958', 'ring [PHONE]'],
  ['phone (E.164 without separators)', 'sms +4915123456789 please', 'sms [PHONE] please'],
  ['credit card (Visa, spaced)', 'card 4111 1111 1111 1111 exp 12/29', 'card [CREDIT_CARD] exp 12/29'],
  ['credit card (Mastercard, dashed)', 'pay with 5555-5555-5555-4444', 'pay with [CREDIT_CARD]'],
  ['credit card (Amex)', 'amex 378282246310005', 'amex [CREDIT_CARD]'],
  ['IBAN (DE, spaced)', 'IBAN DE89 3704 0044 0532 0130 00 for rent', 'IBAN [IBAN] for rent'],
  ['IBAN (GB, compact)', 'to GB82WEST12345698765432.', 'to [IBAN].'],
  ['IPv4', 'from 203.0.113.42 at noon', 'from [IP_ADDRESS] at noon'],
  ['IPv6', 'host 2001:db8:85a3::8a2e:370:7334 is up', 'host [IP_ADDRESS] is up'],
  ['IPv6 loopback', 'bind ::1 only', 'bind [IP_ADDRESS] only'],
  ['OpenAI-style key', 'key sk-proj-4f9Qk2LmN8pR1sT6uV3wX7yZ0aB5cD', 'key [API_KEY]'],
  ['Gatehouse key', 'use sk-KbUuE0WNptC0jXapyMmLBA', 'use [API_KEY]'],
  ['GitHub token', 'token ghp_16C7e42F292c6912E7710c838347Ae178B4a here', 'token [API_KEY] here'],
  ['AWS access key', 'aws AKIAIOSFODNN7EXAMPLE secret', 'aws [AWS_ACCESS_KEY] secret'],
  [
    'JWT',
    'bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c ok',
    'bearer [JWT] ok',
  ],
];

describe('PiiMasker', () => {
  it.each(SAMPLES)('masks %s', (_name, text, expected) => {
    expect(all.maskText(text)).toBe(expected);
  });

  it.each([
    ['a card number that fails the Luhn check', 'order 4111 1111 1111 1112 shipped'],
    ['an IBAN with a wrong checksum', 'ref DE00 3704 0044 0532 0130 00'],
    ['a date', 'due 2026-12-06, ok'],
    ['a time', 'at 12:30:45 sharp'],
    ['a version-like number with an octet above 255', 'build 10.300.2.1'],
    ['an amount', 'total 1,234.56 EUR'],
    ['plain prose', 'The quick brown fox jumps over the lazy dog.'],
  ])('leaves %s alone', (_name, text) => {
    expect(all.maskText(text)).toBe(text);
  });

  it('runs only the detectors it is given, and custom patterns first with their own placeholder', () => {
    const masker = new PiiMasker({ detectors: ['email'], patterns: [{ name: 'employee_id', regex: 'EMP-\\d{6}' }] });
    expect(masker.maskText('EMP-123456 is jane@example.com, +1 415-555-0132')).toBe('[EMPLOYEE_ID] is [EMAIL], +1 415-555-0132');
  });

  it('custom patterns run on RE2: its syntax (named groups, inline flags), astral characters around a match kept', () => {
    const masker = new PiiMasker({
      detectors: [],
      patterns: [
        { name: 'order', regex: '(?P<prefix>ORD)-\\d{4}' },
        { name: 'customer', regex: '(?i)customer #\\d+' },
      ],
    });
    expect(masker.maskText('😀 ORD-1234 for Customer #77 😀, not ORD-12')).toBe('😀 [ORDER] for [CUSTOMER] 😀, not ORD-12');
    // A `$` in what the pattern names would be a replacement reference for a string replace: it is not one here.
    expect(new PiiMasker({ detectors: [], patterns: [{ name: 'price', regex: '\\$\\d+' }] }).maskText('pay $40 now')).toBe('pay [PRICE] now');
  });

  it.each([2, 12])('%i custom patterns apply in order, each on what the previous ones left', (count) => {
    const filler = Array.from({ length: count - 2 }, (_, index) => ({ name: `unused${index}`, regex: `ZZ${index}-\\d+` }));
    const masker = new PiiMasker({ detectors: [], patterns: [{ name: 'a', regex: 'EMP-\\d+' }, ...filler, { name: 'b', regex: '\\[A\\] for' }] });
    expect(masker.maskText('EMP-1 for you, ZZ0-7')).toBe(count > 2 ? '[B] you, [UNUSED0]' : '[B] you, ZZ0-7');
    expect(masker.maskText('nothing here')).toBe('nothing here');
  });

  it('a pattern that backtracks catastrophically on V8 masks a long text at once on RE2', () => {
    const masker = new PiiMasker({ detectors: [], patterns: [{ name: 'run', regex: '(a+)+$' }] });
    const start = Date.now();
    expect(masker.maskText(`${'a'.repeat(50_000)}!`)).toBe(`${'a'.repeat(50_000)}!`);
    expect(masker.maskText(`x ${'a'.repeat(50_000)}`)).toBe('x [RUN]');
    expect(Date.now() - start).toBeLessThan(1000);
  });

  /** Inputs built to make a backtracking regex retry from every position; each detector must stay linear. */
  const ADVERSARIAL: ReadonlyArray<[PiiDetector, (n: number) => string]> = [
    ['email', (n) => `${'a'.repeat(n)}@`],
    ['email', (n) => `a@${'a.'.repeat(n / 2)}`],
    ['email', (n) => `${'a.'.repeat(n / 2)}@a`],
    ['phone', (n) => '12 '.repeat(n / 3)],
    ['phone', (n) => `+${'1'.repeat(n)}`],
    ['credit_card', (n) => '1 '.repeat(n / 2)],
    ['iban', (n) => `DE89 ${'ABCD '.repeat(n / 5)}`],
    ['ip_address', (n) => '1:'.repeat(n / 2)],
    ['ip_address', (n) => '1.'.repeat(n / 2)],
    ['api_key', (n) => `sk-${'a'.repeat(n)}`],
    ['aws_access_key', (n) => `AKIA${'A'.repeat(n)}`],
    ['jwt', (n) => `eyJ${'a'.repeat(n)}.eyJ${'a'.repeat(n)}`],
  ];

  it.each(ADVERSARIAL)('built-in %s stays linear on adversarial input (#%#)', (detector, make) => {
    const masker = new PiiMasker({ detectors: [detector], patterns: [] });
    const time = (text: string): number => {
      masker.maskText(text);
      const start = process.hrtime.bigint();
      masker.maskText(text);
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    // 80 kB: quadratic would be seconds (the email detector before it started only at a run's start: 11 s).
    expect(time(make(80_000))).toBeLessThan(250);
  });

  it('a stored pattern RE2 cannot run (written before RE2, or by hand) sends no content at all, never the original', () => {
    const config = { detectors: ['email'] as PiiDetector[], patterns: [{ name: 'legacy', regex: '(?<=id:)\\w+' }] };
    expect(() => new PiiMasker(config)).toThrow();
    const payload = { ...samplePayload(), messages: [{ role: 'user', content: 'id:4711 jane@example.com' }] };
    const event: HandedOverEvent = { eventId: 'e1', entry: {} as OwnedEntry, source: 'team', teamId: 't', payload, piiMasking: config };
    const [row] = maskedRows([event], new PiiMaskerCache());
    expect(JSON.stringify(row.payload.messages)).toBe(JSON.stringify([{ role: 'user', content: REDACTED_MARKER }]));
    expect(JSON.stringify(row.payload)).not.toContain('4711');
  });

  it('masks every string of messages, answer (tool-call arguments included) and error, and nothing else', () => {
    const payload = {
      ...samplePayload(),
      messages: [
        { role: 'system', content: 'You help jane@example.com' },
        { role: 'user', content: [{ type: 'text', text: 'my card is 4111 1111 1111 1111' }] },
      ],
      response: {
        id: 'chatcmpl-1',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'refund', arguments: '{"iban":"DE89370400440532013000"}' } }],
            },
          },
        ],
      },
      error_str: 'upstream said: unknown user bob@example.org',
      error_information: { error_code: '400', error_class: 'BadRequest', llm_provider: 'openai', error_message: 'unknown user bob@example.org' },
    };
    const masked = all.maskPayload(payload);
    expect(JSON.stringify(masked.messages)).toBe(
      JSON.stringify([
        { role: 'system', content: 'You help [EMAIL]' },
        { role: 'user', content: [{ type: 'text', text: 'my card is [CREDIT_CARD]' }] },
      ]),
    );
    expect(JSON.stringify(masked.response)).toContain('"arguments":"{\\"iban\\":\\"[IBAN]\\"}"');
    expect(masked.error_str).toBe('upstream said: unknown user [EMAIL]');
    expect(masked.error_information?.error_message).toBe('unknown user [EMAIL]');
    expect(masked.metadata).toBe(payload.metadata);
    expect(masked.model).toBe(payload.model);
    // The original stays intact: the upstream answer and the held copy are not touched.
    expect(JSON.stringify(payload.messages)).toContain('jane@example.com');
  });

  it('compiles one masker per distinct configuration', () => {
    const cache = new PiiMaskerCache(2);
    const config = { detectors: ['email'] as const, patterns: [] };
    expect(cache.get(config)).toBe(cache.get({ detectors: ['email'], patterns: [] }));
    expect(cache.get({ detectors: ['jwt'], patterns: [] })).not.toBe(cache.get(config));
  });
});
