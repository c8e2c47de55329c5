import { describe, expect, it } from 'vitest';
import {
  checkCallbackUrl,
  type HostResolver,
  isPrivateAddress,
  redactCallbackUrl,
} from '../src/index.ts';

describe('isPrivateAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'RFC 1918'],
    ['172.16.0.1', 'RFC 1918'],
    ['172.31.255.255', 'RFC 1918'],
    ['192.168.1.1', 'RFC 1918'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['169.254.0.1', 'link-local'],
    ['100.64.0.1', 'CGNAT'],
    ['100.100.100.200', 'CGNAT (Alibaba metadata)'],
    ['100.127.255.255', 'CGNAT'],
    ['0.0.0.0', 'this network'],
    ['0.1.2.3', 'this network'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.10', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['::1', 'IPv6 loopback'],
    ['::', 'IPv6 unspecified'],
    ['::127.0.0.1', 'IPv4-compatible'],
    ['fc00::1', 'unique-local'],
    ['fd00:ec2::254', 'unique-local (AWS metadata)'],
    ['fe80::1', 'IPv6 link-local'],
    ['fe80::1%eth0', 'IPv6 link-local with zone'],
    ['fec0::1', 'IPv6 site-local'],
    ['ff02::1', 'IPv6 multicast'],
    ['2001:db8::1', 'IPv6 documentation'],
    ['2001:0:4136:e378::1', 'Teredo'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex form'],
    ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
    ['::ffff:10.1.2.3', 'IPv4-mapped RFC 1918'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 of metadata'],
    ['64:ff9b:1::1', 'local-use NAT64'],
    ['2002:c0a8:0101::1', '6to4 of 192.168.1.1'],
    ['2002:7f00:1::', '6to4 of 127.0.0.1'],
    ['[::1]', 'bracketed IPv6'],
    ['localhost', 'not an IP'],
    ['', 'empty'],
    ['1.2.3', 'malformed'],
  ])('%s is not public (%s)', (ip) => {
    expect(isPrivateAddress(ip)).toBe(true);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '172.15.255.255',
    '172.32.0.1',
    '100.63.255.255',
    '100.128.0.1',
    '169.253.255.255',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2a00:1450:4001:82a::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('%s is public', (ip) => {
    expect(isPrivateAddress(ip)).toBe(false);
  });
});

function resolver(table: Record<string, string[]>): HostResolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (hostname: string) => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolve, { calls });
}

describe('checkCallbackUrl', () => {
  const dns = resolver({
    'hooks.example.com': ['93.184.216.34', '2606:2800:220:1::1'],
    'mixed.example.com': ['93.184.216.34', '10.0.0.5'],
    'internal.example.com': ['169.254.169.254'],
    'empty.example.com': [],
  });
  const check = (url: string, allowPrivate = false) =>
    checkCallbackUrl(url, { allowPrivate, resolve: dns });

  it('accepts an https URL whose host resolves only to public addresses', async () => {
    await expect(check('https://hooks.example.com/atelier?x=1')).resolves.toEqual({
      ok: true,
      addresses: ['93.184.216.34', '2606:2800:220:1::1'],
    });
  });

  it.each([
    ['ftp://hooks.example.com/x', 'unsupported_protocol'],
    ['file:///etc/passwd', 'unsupported_protocol'],
    ['javascript:alert(1)', 'unsupported_protocol'],
    ['not a url', 'invalid_url'],
    ['/relative/path', 'invalid_url'],
    ['http://127.0.0.1:8080/hook', 'private_address'],
    ['http://[::1]/hook', 'private_address'],
    ['http://[::ffff:169.254.169.254]/latest/meta-data', 'private_address'],
    ['http://2130706433/', 'private_address'],
    ['http://0x7f.1/', 'private_address'],
    ['http://169.254.169.254/latest/meta-data', 'private_address'],
    ['http://internal.example.com/', 'private_address'],
    ['http://mixed.example.com/', 'private_address'],
    ['http://nowhere.example.com/', 'unresolvable'],
    ['http://empty.example.com/', 'unresolvable'],
  ])('refuses %s (%s)', async (url, code) => {
    const result = await check(url);
    expect(result).toMatchObject({ ok: false, code });
  });

  it('does not resolve IP literals', async () => {
    dns.calls.length = 0;
    await check('http://10.1.2.3/');
    await check('http://[fd00::1]/');
    expect(dns.calls).toEqual([]);
  });

  it('allows non-public addresses when told to, still http(s) only', async () => {
    await expect(check('http://127.0.0.1:8080/hook', true)).resolves.toEqual({
      ok: true,
      addresses: ['127.0.0.1'],
    });
    await expect(check('http://internal.example.com/', true)).resolves.toMatchObject({
      ok: true,
    });
    await expect(check('gopher://127.0.0.1/', true)).resolves.toMatchObject({
      ok: false,
      code: 'unsupported_protocol',
    });
  });
});

describe('redactCallbackUrl', () => {
  it.each([
    ['https://hooks.example.com/done?t=abc&x=1', 'https://hooks.example.com/done?[redacted]'],
    ['https://hooks.example.com/done?', 'https://hooks.example.com/done?[redacted]'],
    ['http://u:p@hooks.example.com:8443/a/b#f', 'http://[redacted]@hooks.example.com:8443/a/b'],
    ['https://hooks.example.com', 'https://hooks.example.com/'],
    ['not a url ?token=x', '[redacted]'],
  ])('%s shows as %s', (url, shown) => {
    expect(redactCallbackUrl(url)).toBe(shown);
  });
});
