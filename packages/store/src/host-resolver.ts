import { lookup } from 'node:dns/promises';
import type { HostResolver } from '@atelier/shared';

/** `dns.lookup(hostname, { all: true })`: what the operating system would connect to. */
export const resolveHost: HostResolver = (hostname) => lookup(hostname, { all: true });
