import { isIP, isIPv4, isIPv6 } from 'node:net';

/**
 * Which host names and IP addresses the outbound-URL guard (ssrf-guard.ts) refuses: internal names, and every
 * address that is not public unicast (private, loopback, link-local and metadata, CGNAT, multicast, reserved,
 * IPv4 embedded in IPv6 by any of the standard mappings). Pure functions, no I/O.
 */

const BLOCKED_SUFFIXES = ['.localhost', '.internal', '.local', '.localdomain', '.home.arpa'];
const BLOCKED_NAMES = new Set(['localhost', 'localhost.localdomain', 'metadata.google.internal', 'metadata.azure.com', 'metadata']);

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

/** The host without IPv6 brackets and a trailing dot. */
export function bareHostname(hostname: string): string {
  const unbracketed = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return unbracketed.replace(/\.$/, '');
}
