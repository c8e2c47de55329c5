import type { LookupAddress, LookupOptions } from 'node:dns';
import type { HostResolver } from '@atelier/shared';
import { describe, expect, it } from 'vitest';
import { ADDRESS_REFUSED, createGuardedLookup } from '../../src/callbacks/guarded-lookup.ts';

const TABLE: Record<string, LookupAddress[]> = {
  'public.test': [
    { address: '93.184.216.34', family: 4 },
    { address: '2606:2800:220:1::1', family: 6 },
  ],
  'rebound.test': [{ address: '127.0.0.1', family: 4 }],
  'mixed.test': [
    { address: '93.184.216.34', family: 4 },
    { address: '::ffff:10.0.0.1', family: 6 },
  ],
};

const resolve: HostResolver = async (hostname) => {
  const found = TABLE[hostname];
  if (!found) throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return found;
};

interface Answer {
  err: NodeJS.ErrnoException | null;
  address: string | LookupAddress[];
  family?: number | undefined;
}

function lookup(allowPrivate: boolean, hostname: string, options: LookupOptions): Promise<Answer> {
  const guarded = createGuardedLookup({ allowPrivate, resolve });
  return new Promise((done) => {
    guarded(hostname, options, (err, address, family) => done({ err, address, family }));
  });
}

describe('createGuardedLookup', () => {
  it('answers with every address when Node asks for all', async () => {
    const answer = await lookup(false, 'public.test', { all: true });
    expect(answer.err).toBeNull();
    expect(answer.address).toEqual(TABLE['public.test']);
  });

  it('answers with one address of the asked family otherwise', async () => {
    expect(await lookup(false, 'public.test', { family: 6 })).toEqual({
      err: null,
      address: '2606:2800:220:1::1',
      family: 6,
    });
    expect(await lookup(false, 'public.test', {})).toEqual({
      err: null,
      address: '93.184.216.34',
      family: 4,
    });
  });

  it.each(['rebound.test', 'mixed.test'])(
    'refuses %s when a resolved address is not public',
    async (host) => {
      const answer = await lookup(false, host, { all: true });
      expect(answer.err?.code).toBe(ADDRESS_REFUSED);
    },
  );

  it('lets non-public addresses through when allowed', async () => {
    const answer = await lookup(true, 'rebound.test', { all: true });
    expect(answer.err).toBeNull();
    expect(answer.address).toEqual([{ address: '127.0.0.1', family: 4 }]);
  });

  it('passes resolver errors on, and has no answer for a missing family', async () => {
    expect((await lookup(false, 'nowhere.test', {})).err?.code).toBe('ENOTFOUND');
    expect((await lookup(true, 'rebound.test', { family: 6 })).err?.code).toBe('ENOTFOUND');
  });
});
