import type { LookupFunction } from 'node:net';
import { type HostResolver, isPrivateAddress } from '@atelier/shared';
import { resolveHost } from '@atelier/store';

/** Error code of a connection refused because the host resolved to a non-public address. */
export const ADDRESS_REFUSED = 'ERR_ATELIER_ADDRESS_REFUSED';

export interface GuardedLookupOptions {
  allowPrivate: boolean;
  resolve?: HostResolver;
}

/**
 * A `lookup` for the HTTP agent that resolves the host again at connect time and refuses
 * non-public addresses (unless allowed). The URL check before sending is not enough on its
 * own: DNS may answer differently a moment later (DNS rebinding). IP-literal hosts never reach
 * a lookup; the URL check covers them.
 */
export function createGuardedLookup(options: GuardedLookupOptions): LookupFunction {
  const resolve = options.resolve ?? resolveHost;
  return (hostname, lookupOptions, callback) => {
    resolve(hostname).then(
      (resolved) => {
        const refused = options.allowPrivate
          ? undefined
          : resolved.find((a) => isPrivateAddress(a.address));
        if (refused !== undefined) {
          callback(failure(ADDRESS_REFUSED, `${hostname} resolves to a non-public address`), '', 0);
          return;
        }
        const family = familyOf(lookupOptions.family);
        const usable = resolved.filter((a) => family === 0 || a.family === family);
        const first = usable[0];
        if (first === undefined) {
          callback(failure('ENOTFOUND', `${hostname} has no usable address`), '', 0);
          return;
        }
        if (lookupOptions.all) callback(null, usable);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

function familyOf(family: number | 'IPv4' | 'IPv6' | undefined): number {
  if (family === 'IPv4') return 4;
  if (family === 'IPv6') return 6;
  return family ?? 0;
}

function failure(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}
