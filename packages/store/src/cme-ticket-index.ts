import { atelierKeys } from '@atelier/shared';
import type { RedisClient } from './redis.ts';

/** What operators may see of a cached CME ticket: never the ticket itself. */
export interface TicketInfo {
  platform: string;
  userId: string;
  /** False after the last ticket was invalidated and before the next login. */
  active: boolean;
  obtainedAt: number | undefined;
  ageMs: number | undefined;
  /** Logins stored for this (platform, userId) so far. */
  refreshes: number;
  tfUid: string | undefined;
}

/**
 * Every (platform, userId) with a ticket record, read-only, for the dashboard and the worker's
 * ticket store alike. The ticket value is never read into memory.
 */
export async function listCmeTickets(
  redis: RedisClient,
  prefix: string,
  now = Date.now(),
): Promise<TicketInfo[]> {
  const keys = atelierKeys(prefix).cme;
  const members = await redis.smembers(keys.ticketIndex);
  const infos = await Promise.all(
    members.map(async (member): Promise<TicketInfo | undefined> => {
      const [platform, userId] = JSON.parse(member) as [string, string];
      const key = keys.ticket(platform, userId);
      const [[, present], [, fields]] = (await redis
        .multi()
        .hexists(key, 'authorization')
        .hmget(key, 'tfUid', 'obtainedAt', 'refreshes')
        .exec()) as [[unknown, number], [unknown, (string | null)[]]];
      const [tfUid, obtainedAt, refreshes] = fields;
      if (refreshes === null || refreshes === undefined) return undefined;
      const obtained =
        obtainedAt === null || obtainedAt === undefined ? undefined : Number(obtainedAt);
      return {
        platform,
        userId,
        active: present === 1,
        obtainedAt: obtained,
        ageMs: obtained === undefined ? undefined : now - obtained,
        refreshes: Number(refreshes),
        tfUid: tfUid ?? undefined,
      };
    }),
  );
  return infos
    .filter((info): info is TicketInfo => info !== undefined)
    .sort((a, b) => a.platform.localeCompare(b.platform) || a.userId.localeCompare(b.userId));
}
