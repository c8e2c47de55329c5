import { isIP } from 'node:net';
import { REDACTED } from './secret.ts';

export interface ResolvedAddress {
  address: string;
  /** 4 or 6. */
  family: number;
}

/** Every address a hostname resolves to (injectable so tests need no DNS). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface CallbackUrlCheckOptions {
  /** Allow loopback, private and other non-public addresses (`ATELIER_CALLBACK_ALLOW_PRIVATE`). */
  allowPrivate: boolean;
  /** How host names become addresses (`resolveHost` from `@atelier/store` in production). */
  resolve: HostResolver;
}

/** Why a URL was refused: `unresolvable` may pass later; the others will not. */
export type CallbackUrlRefusal =
  | 'invalid_url'
  | 'unsupported_protocol'
  | 'private_address'
  | 'unresolvable';

export type CallbackUrlCheck =
  | { ok: true; addresses: string[] }
  | { ok: false; code: CallbackUrlRefusal; reason: string };

/**
 * A callback URL as it may be shown (API answers, dashboard, CLI, logs): its query string may
 * carry the receiver's token, so it is replaced by `?[redacted]`; credentials become
 * `[redacted]@` and a fragment is dropped. Scheme, host and path stay, so it can be told apart.
 * Not a URL at all: `[redacted]`.
 */
export function redactCallbackUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return REDACTED;
  }
  const credentials = parsed.username !== '' || parsed.password !== '' ? `${REDACTED}@` : '';
  const query = parsed.search !== '' || url.includes('?') ? `?${REDACTED}` : '';
  return `${parsed.protocol}//${credentials}${parsed.host}${parsed.pathname}${query}`;
}

/**
 * Checks a callback URL before anything is sent to it: http(s) only, and (unless private
 * addresses are allowed) every address the host resolves to must be public. One non-public
 * address refuses the URL: a host that mixes them is either misconfigured or an attack.
 */
export async function checkCallbackUrl(
  url: string,
  options: CallbackUrlCheckOptions,
): Promise<CallbackUrlCheck> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, code: 'invalid_url', reason: 'not an absolute URL' };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { ok: false, code: 'unsupported_protocol', reason: `${parsed.protocol} is not http(s)` };
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') return { ok: false, code: 'invalid_url', reason: 'the URL has no host' };

  let addresses: string[];
  if (isIP(host) !== 0) {
    addresses = [host];
  } else {
    try {
      addresses = (await options.resolve(host)).map((a) => a.address);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return {
        ok: false,
        code: 'unresolvable',
        reason: `${host} does not resolve${typeof code === 'string' ? ` (${code})` : ''}`,
      };
    }
    if (addresses.length === 0) {
      return { ok: false, code: 'unresolvable', reason: `${host} does not resolve` };
    }
  }
  if (!options.allowPrivate) {
    const refused = addresses.find(isPrivateAddress);
    if (refused !== undefined) {
      return {
        ok: false,
        code: 'private_address',
        reason: `${host} resolves to the non-public address ${refused}`,
      };
    }
  }
  return { ok: true, addresses };
}

/**
 * True for any address that is not public unicast: loopback, RFC 1918, link-local (cloud
 * metadata at 169.254.169.254), CGNAT, "this network", multicast, reserved, documentation
 * and benchmarking ranges, IPv6 unique-local/link-local/site-local, and IPv6 forms that embed
 * one of those IPv4 addresses (mapped, NAT64, 6to4). Anything that is not an IP is refused too.
 */
export function isPrivateAddress(ip: string): boolean {
  const text = ip.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const kind = isIP(text);
  if (kind === 4) return inRanges(parseIpv4(text), IPV4_NON_PUBLIC);
  if (kind !== 6) return true;
  const bytes = parseIpv6(text);
  if (inCidr(bytes, IPV4_MAPPED)) return inRanges(bytes.slice(12), IPV4_NON_PUBLIC);
  if (inCidr(bytes, NAT64)) return inRanges(bytes.slice(12), IPV4_NON_PUBLIC);
  if (inCidr(bytes, SIX_TO_FOUR)) return inRanges(bytes.slice(2, 6), IPV4_NON_PUBLIC);
  return inRanges(bytes, IPV6_NON_PUBLIC);
}

interface Cidr {
  bytes: number[];
  bits: number;
}

function cidr(text: string): Cidr {
  const [address = '', bits = ''] = text.split('/');
  return { bytes: isIP(address) === 4 ? parseIpv4(address) : parseIpv6(address), bits: +bits };
}

const IPV4_NON_PUBLIC = [
  '0.0.0.0/8', // "this network"
  '10.0.0.0/8', // RFC 1918
  '100.64.0.0/10', // CGNAT (also Alibaba Cloud metadata 100.100.100.200)
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link-local, cloud metadata 169.254.169.254
  '172.16.0.0/12', // RFC 1918
  '192.0.0.0/24', // IETF protocol assignments
  '192.0.2.0/24', // TEST-NET-1
  '192.88.99.0/24', // 6to4 relay anycast (deprecated)
  '192.168.0.0/16', // RFC 1918
  '198.18.0.0/15', // benchmarking
  '198.51.100.0/24', // TEST-NET-2
  '203.0.113.0/24', // TEST-NET-3
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, broadcast
].map(cidr);

const IPV4_MAPPED = cidr('::ffff:0:0/96');
const NAT64 = cidr('64:ff9b::/96');
const SIX_TO_FOUR = cidr('2002::/16');

const IPV6_NON_PUBLIC = [
  '::/8', // unspecified, loopback, IPv4-compatible and other reserved forms
  '64:ff9b:1::/48', // local-use NAT64
  '100::/64', // discard-only
  '2001::/32', // Teredo
  '2001:2::/48', // benchmarking
  '2001:db8::/32', // documentation
  '3fff::/20', // documentation
  'fc00::/7', // unique-local (also AWS metadata fd00:ec2::254)
  'fe80::/10', // link-local
  'fec0::/10', // site-local (deprecated)
  'ff00::/8', // multicast
].map(cidr);

function inRanges(bytes: number[], ranges: readonly Cidr[]): boolean {
  return ranges.some((range) => inCidr(bytes, range));
}

function inCidr(bytes: number[], range: Cidr): boolean {
  if (bytes.length !== range.bytes.length) return false;
  for (let bit = 0; bit < range.bits; bit += 8) {
    const take = Math.min(8, range.bits - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    const index = bit / 8;
    if (((bytes[index] ?? 0) & mask) !== ((range.bytes[index] ?? 0) & mask)) return false;
  }
  return true;
}

/** Four bytes of a dotted-quad address already validated by `isIP`. */
function parseIpv4(text: string): number[] {
  return text.split('.').map(Number);
}

/** Sixteen bytes of an IPv6 address already validated by `isIP` (`::`, embedded IPv4). */
function parseIpv6(text: string): number[] {
  let body = text;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(body)?.[1];
  if (dotted !== undefined) {
    const [a = 0, b = 0, c = 0, d = 0] = parseIpv4(dotted);
    body = `${body.slice(0, -dotted.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = body.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const middle = new Array<string>(8 - left.length - right.length).fill('0');
  const bytes: number[] = [];
  for (const group of [...left, ...middle, ...right]) {
    const value = Number.parseInt(group, 16);
    bytes.push(value >> 8, value & 0xff);
  }
  return bytes;
}
