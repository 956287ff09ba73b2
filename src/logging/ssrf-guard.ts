import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupAllOptions, LookupOptions } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { bareHostname, blockedAddressReason, blockedNameReason } from './blocked-addresses';

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

/** The host does not resolve (yet): refused at save time, but at connect time a network error like any other. */
class UnresolvedHostError extends SsrfBlockedError {}

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
    throw new UnresolvedHostError(`host ${hostname} does not resolve (${errorCode(err)})`);
  }
  if (addresses.length === 0) {
    throw new UnresolvedHostError(`host ${hostname} does not resolve`);
  }
  for (const { address } of addresses) {
    const reason = blockedAddressReason(address);
    if (reason) {
      throw new SsrfBlockedError(`host ${hostname} resolves to ${address}: ${reason}`);
    }
  }
  return parsed;
}

/**
 * The same rules as `assertPublicHttpUrl`, right before a connection by a destination that does not connect through
 * a guarded Agent: the reason the URL must not be used now, or null. A name that does not resolve is not refused
 * here: the destination's own attempt then fails as a network error and is retried.
 */
export async function connectTimeProblem(rawUrl: string, options: SsrfGuardOptions): Promise<string | null> {
  try {
    await assertPublicHttpUrl(rawUrl, options);
    return null;
  } catch (err) {
    if (err instanceof UnresolvedHostError || !(err instanceof SsrfBlockedError)) return null;
    return err.message;
  }
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
