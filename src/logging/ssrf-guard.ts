import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupAllOptions, LookupOptions } from 'node:dns';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { Agent, buildConnector } from 'undici';

/**
 * Outbound-URL guard for destinations whose host a non-admin chose (`langfuse_host`, `otel_endpoint`, ...).
 *
 * Two checks, because a name can resolve differently later (DNS rebinding) and redirects can point anywhere:
 *  1. save time: `assertPublicHttpUrl()` parses the URL, rejects bad schemes, userinfo, internal names and
 *     obfuscated numeric hosts, resolves the name and rejects it if ANY address is non-public;
 *  2. connect time: `createGuardedAgent()` returns an undici Agent whose connector re-checks the address the
 *     socket is really opened to (IP literals directly, names through a checking `lookup`). Callers send every
 *     request to such hosts through that Agent and never follow redirects, so nothing reaches a blocked address
 *     whatever DNS answers at that moment.
 * `allowedHosts` (operator allowlist, `host` or `host:port`) bypasses the name and address checks, not the scheme
 * and userinfo checks.
 */

export type LookupAllFn = (hostname: string) => Promise<readonly LookupAddress[]>;

export interface SsrfGuardOptions {
  allowedHosts: readonly string[];
  /** Injectable resolver (tests); defaults to `dns.lookup(host, { all: true })`. */
  lookup?: LookupAllFn;
}

export class SsrfBlockedError extends Error {
  readonly code = 'ERR_SSRF_BLOCKED';
  constructor(message: string) {
    super(message);
    this.name = 'SsrfBlockedError';
  }
}

const BLOCKED_SUFFIXES = ['.localhost', '.internal', '.local', '.localdomain', '.home.arpa'];
const BLOCKED_NAMES = new Set(['localhost', 'localhost.localdomain', 'metadata.google.internal', 'metadata.azure.com', 'metadata']);

/** Save-time check. Resolves with the parsed URL when it may be used; throws `SsrfBlockedError` otherwise. */
export async function assertPublicHttpUrl(rawUrl: string, options: SsrfGuardOptions): Promise<URL> {
  let parsed: URL;
  try {
    parsed = new URL(rawUrl);
  } catch {
    throw new SsrfBlockedError('not a valid absolute URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new SsrfBlockedError(`scheme ${parsed.protocol.replace(/:$/, '')} is not allowed (use http or https)`);
  }
  if (parsed.username !== '' || parsed.password !== '' || rawAuthority(rawUrl).includes('@')) {
    throw new SsrfBlockedError('credentials in the URL (user:password@) are not allowed');
  }
  const hostname = bareHostname(parsed.hostname);
  const port = effectivePort(parsed);
  if (isAllowedHost(hostname, port, options.allowedHosts)) {
    return parsed;
  }
  const nameProblem = blockedNameReason(hostname);
  if (nameProblem) {
    throw new SsrfBlockedError(`host ${hostname} is not allowed: ${nameProblem}`);
  }
  if (isIP(hostname) === 4 && rawHostOf(rawUrl) !== hostname) {
    // The WHATWG parser turns 2130706433, 0x7f000001 and 0177.0.0.1 into 127.0.0.1; a legitimate endpoint never
    // needs such spellings and they exist mainly to slip past naive filters.
    throw new SsrfBlockedError(`host ${rawHostOf(rawUrl)} is a non-canonical numeric address`);
  }
  if (isIP(hostname)) {
    const reason = blockedAddressReason(hostname);
    if (reason) {
      throw new SsrfBlockedError(`host ${hostname} is not allowed: ${reason}`);
    }
    return parsed;
  }
  const lookup = options.lookup ?? defaultLookupAll;
  let addresses: readonly LookupAddress[];
  try {
    addresses = await lookup(hostname);
  } catch (err) {
    throw new SsrfBlockedError(`host ${hostname} does not resolve (${errorCode(err)})`);
  }
  if (addresses.length === 0) {
    throw new SsrfBlockedError(`host ${hostname} does not resolve`);
  }
  for (const { address } of addresses) {
    const reason = blockedAddressReason(address);
    if (reason) {
      throw new SsrfBlockedError(`host ${hostname} resolves to ${address}: ${reason}`);
    }
  }
  return parsed;
}

/** Connect-time check of one resolved address; throws `SsrfBlockedError`. Exported for callers with their own sockets. */
export function checkResolvedAddress(hostname: string, port: number, address: string, allowedHosts: readonly string[]): void {
  if (isAllowedHost(bareHostname(hostname), port, allowedHosts)) {
    return;
  }
  const reason = blockedAddressReason(address);
  if (reason) {
    throw new SsrfBlockedError(`connection to ${hostname} (${address}) refused: ${reason}`);
  }
}

/**
 * A `net`/`tls` compatible `lookup` that refuses to hand back any non-public address. Node calls it with
 * `all: true` when autoSelectFamily is on, so both shapes are supported.
 */
export function createGuardedLookup(allowedHosts: readonly string[], port: number, lookupAll: LookupAllFn = defaultLookupAll) {
  return function guardedLookup(
    hostname: string,
    options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void {
    const requested = typeof options === 'object' && options ? options.family : undefined;
    const family = requested === 'IPv4' ? 4 : requested === 'IPv6' ? 6 : (requested ?? 0);
    lookupAll(hostname).then(
      (resolved) => {
        const addresses = resolved.filter((a) => family === 0 || a.family === family);
        if (addresses.length === 0) {
          const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          err.code = 'ENOTFOUND';
          callback(err, '', 0);
          return;
        }
        try {
          for (const { address } of addresses) {
            checkResolvedAddress(hostname, port, address, allowedHosts);
          }
        } catch (blocked) {
          callback(blocked as NodeJS.ErrnoException, '', 0);
          return;
        }
        if ((options as LookupAllOptions).all) {
          callback(null, [...addresses]);
        } else {
          callback(null, addresses[0].address, addresses[0].family);
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

export interface GuardedAgentOptions {
  /** When null the Agent does not guard (trusted, admin-only destinations and tests on loopback). */
  allowedHosts: readonly string[] | null;
  connectTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  connections?: number;
  /** Injectable resolver (tests); defaults to `dns.lookup(host, { all: true })`. */
  lookup?: LookupAllFn;
}

/** An undici Agent whose every new socket passes `checkResolvedAddress`; see the module comment. */
export function createGuardedAgent(options: GuardedAgentOptions): Agent {
  const base = {
    timeout: options.connectTimeoutMs ?? 10_000,
    keepAlive: true,
  };
  const common = {
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    connections: options.connections ?? 16,
  };
  const allowed = options.allowedHosts;
  if (allowed === null) {
    return new Agent({ ...common, connect: base });
  }
  const connectors = new Map<number, buildConnector.connector>();
  const connectorFor = (port: number): buildConnector.connector => {
    let connector = connectors.get(port);
    if (!connector) {
      connector = buildConnector({ ...base, lookup: createGuardedLookup(allowed, port, options.lookup) });
      connectors.set(port, connector);
    }
    return connector;
  };
  const guarded: buildConnector.connector = (connectOptions, callback) => {
    const port = Number(connectOptions.port) || (connectOptions.protocol === 'https:' ? 443 : 80);
    const hostname = bareHostname(connectOptions.hostname);
    // Node skips `lookup` for IP literals, so they are checked here.
    if (isIP(hostname)) {
      try {
        checkResolvedAddress(hostname, port, hostname, allowed);
      } catch (err) {
        callback(err as Error, null);
        return;
      }
    }
    connectorFor(port)(connectOptions, callback);
  };
  return new Agent({ ...common, connect: guarded });
}

export function isAllowedHost(hostname: string, port: number, allowedHosts: readonly string[]): boolean {
  const host = bareHostname(hostname).toLowerCase();
  const hostForPort = isIPv6(host) ? `[${host}]` : host;
  return allowedHosts.some((entry) => {
    const normalized = entry.trim().toLowerCase().replace(/\.$/, '');
    return normalized === host || normalized === hostForPort || normalized === `${hostForPort}:${port}`;
  });
}

/** Why a hostname (not an IP) is refused without resolving it, or null. */
export function blockedNameReason(hostname: string): string | null {
  const host = bareHostname(hostname).toLowerCase();
  if (host === '') {
    return 'empty host';
  }
  if (BLOCKED_NAMES.has(host)) {
    return 'internal or metadata host name';
  }
  if (BLOCKED_SUFFIXES.some((suffix) => host.endsWith(suffix))) {
    return 'internal domain';
  }
  if (!isIP(host) && !host.includes('.')) {
    return 'single-label names resolve through local search domains';
  }
  return null;
}

/** Why an IP address is not a public unicast address, or null when it is. */
export function blockedAddressReason(address: string): string | null {
  const ip = bareHostname(address);
  if (isIPv4(ip)) {
    return ipv4Reason(ipv4ToInt(ip));
  }
  if (isIPv6(ip)) {
    return ipv6Reason(ipv6ToBytes(ip));
  }
  return 'not an IP address';
}

const IPV4_BLOCKS: readonly [string, number, string][] = [
  ['0.0.0.0', 8, '"this network" (0.0.0.0/8)'],
  ['10.0.0.0', 8, 'private network (10.0.0.0/8)'],
  ['100.64.0.0', 10, 'carrier-grade NAT (100.64.0.0/10)'],
  ['127.0.0.0', 8, 'loopback (127.0.0.0/8)'],
  ['169.254.0.0', 16, 'link-local / cloud metadata (169.254.0.0/16)'],
  ['172.16.0.0', 12, 'private network (172.16.0.0/12)'],
  ['192.0.0.0', 24, 'IETF protocol assignments (192.0.0.0/24)'],
  ['192.0.2.0', 24, 'documentation range (192.0.2.0/24)'],
  ['192.88.99.0', 24, '6to4 relay (192.88.99.0/24)'],
  ['192.168.0.0', 16, 'private network (192.168.0.0/16)'],
  ['198.18.0.0', 15, 'benchmarking range (198.18.0.0/15)'],
  ['198.51.100.0', 24, 'documentation range (198.51.100.0/24)'],
  ['203.0.113.0', 24, 'documentation range (203.0.113.0/24)'],
  ['224.0.0.0', 4, 'multicast (224.0.0.0/4)'],
  ['240.0.0.0', 4, 'reserved (240.0.0.0/4)'],
];

function ipv4Reason(value: number): string | null {
  for (const [base, bits, reason] of IPV4_BLOCKS) {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if ((value & mask) >>> 0 === (ipv4ToInt(base) & mask) >>> 0) {
      return reason;
    }
  }
  return null;
}

function ipv6Reason(bytes: Uint8Array): string | null {
  const startsWith = (prefix: number[], bits: number): boolean => {
    for (let bit = 0; bit < bits; bit++) {
      const byte = Math.floor(bit / 8);
      const mask = 0x80 >> bit % 8;
      if ((bytes[byte] & mask) !== ((prefix[byte] ?? 0) & mask)) {
        return false;
      }
    }
    return true;
  };
  const embeddedV4 = (): number => ((bytes[12] << 24) | (bytes[13] << 16) | (bytes[14] << 8) | bytes[15]) >>> 0;
  if (bytes.every((b) => b === 0)) {
    return 'unspecified address (::)';
  }
  if (bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1) {
    return 'loopback (::1)';
  }
  if (startsWith([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], 96)) {
    const inner = ipv4Reason(embeddedV4());
    return inner ? `IPv4-mapped ${intToIpv4(embeddedV4())}: ${inner}` : null;
  }
  if (startsWith([], 96)) {
    return 'IPv4-compatible address (::/96, deprecated)';
  }
  if (startsWith([0x00, 0x64, 0xff, 0x9b], 96)) {
    return 'NAT64 (64:ff9b::/96) can reach any IPv4 address, including private ones';
  }
  if (startsWith([0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48)) {
    return 'local-use NAT64 (64:ff9b:1::/48)';
  }
  if (startsWith([0x01, 0x00, 0, 0, 0, 0, 0, 0], 64)) {
    return 'discard-only range (100::/64)';
  }
  if (startsWith([0x20, 0x01, 0x0d, 0xb8], 32)) {
    return 'documentation range (2001:db8::/32)';
  }
  if (startsWith([0x20, 0x01, 0x00, 0x00], 32)) {
    return 'Teredo tunnelling (2001::/32) can embed private IPv4 addresses';
  }
  if (startsWith([0x20, 0x02], 16)) {
    return '6to4 (2002::/16) can embed private IPv4 addresses';
  }
  if (startsWith([0xfc], 7)) {
    return 'unique local address (fc00::/7)';
  }
  if (startsWith([0xfe, 0x80], 10)) {
    return 'link-local (fe80::/10)';
  }
  if (startsWith([0xfe, 0xc0], 10)) {
    return 'site-local (fec0::/10, deprecated)';
  }
  if (startsWith([0xff], 8)) {
    return 'multicast (ff00::/8)';
  }
  return null;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}

function intToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.');
}

/** Expands any valid IPv6 text form (including `::` and a trailing dotted IPv4) into 16 bytes. */
function ipv6ToBytes(ip: string): Uint8Array {
  let text = ip.split('%')[0].toLowerCase();
  const dotted = text.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const v4 = ipv4ToInt(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${((v4 >>> 16) & 0xffff).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const toGroups = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  let groups: number[];
  if (text.includes('::')) {
    const [head, tail] = text.split('::');
    const headGroups = toGroups(head);
    const tailGroups = toGroups(tail);
    groups = [...headGroups, ...new Array<number>(8 - headGroups.length - tailGroups.length).fill(0), ...tailGroups];
  } else {
    groups = toGroups(text);
  }
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    bytes[index * 2] = (group >> 8) & 0xff;
    bytes[index * 2 + 1] = group & 0xff;
  });
  return bytes;
}

function bareHostname(hostname: string): string {
  const unbracketed = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return unbracketed.replace(/\.$/, '');
}

function effectivePort(url: URL): number {
  if (url.port !== '') {
    return Number(url.port);
  }
  return url.protocol === 'https:' ? 443 : 80;
}

/** The authority as typed (before WHATWG normalisation), for detecting userinfo and numeric spellings. */
function rawAuthority(rawUrl: string): string {
  const afterScheme = rawUrl.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//, '');
  return afterScheme.split(/[/?#\\]/)[0] ?? '';
}

function rawHostOf(rawUrl: string): string {
  const authority = rawAuthority(rawUrl);
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  if (hostPort.startsWith('[')) {
    return hostPort.slice(0, hostPort.indexOf(']') + 1);
  }
  return hostPort.replace(/:\d*$/, '').replace(/\.$/, '').toLowerCase();
}

function defaultLookupAll(hostname: string): Promise<readonly LookupAddress[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : 'lookup failed';
}
