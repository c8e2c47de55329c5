import { atelierKeys, type DeadLetter, jobTenant } from '@atelier/shared';
import { REOPEN_ITEM } from './batch-scripts.ts';
import { LuaScript } from './lua-script.ts';
import type { RedisClient } from './redis.ts';

/**
 * The last step of a replay, whose job is queued again already: removes that filing of the
 * dead letter (same `failedAt` and replay count) and reopens its batch item, in one script.
 * A newer filing (the replayed run died again and was filed anew) is left alone and its item
 * is not reopened; an entry already gone (the replayed run removed the filing it replaced)
 * still reopens a dead item, which that run settles. Only the holder of the entry's lease
 * (replay and delete take it) may finish.
 * KEYS: lease, entries, by-time, by-code, by-queue, codes, by-tenant, then for a batch item
 * by-batch, batch meta, items, open (by-batch alone when the entry names a batch but no index). ARGV: id, failedAt, replays, code, lease token, index, batch id.
 * Returns 1 when finished, 0 for a newer filing, -1 when the lease is not the caller's.
 */
const FINISH = new LuaScript(`${REOPEN_ITEM}
if redis.call('GET', KEYS[1]) ~= ARGV[5] then return -1 end
local json = redis.call('HGET', KEYS[2], ARGV[1])
if json then
  local entry = cjson.decode(json)
  local replays = (type(entry.meta) == 'table' and tonumber(entry.meta.replays)) or 0
  if tonumber(entry.failedAt) ~= tonumber(ARGV[2]) or replays ~= tonumber(ARGV[3]) then
    return 0
  end
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('ZREM', KEYS[4], ARGV[1])
  redis.call('ZREM', KEYS[5], ARGV[1])
  if redis.call('HINCRBY', KEYS[6], ARGV[4], -1) <= 0 then redis.call('HDEL', KEYS[6], ARGV[4]) end
  redis.call('ZREM', KEYS[7], ARGV[1])
  if KEYS[8] then redis.call('ZREM', KEYS[8], ARGV[1]) end
end
if KEYS[9] then reopenItem(KEYS[9], KEYS[10], KEYS[11], ARGV[6], ARGV[7]) end
return 1
`);

/** How `finishReplay` ended. */
export type ReplayFinish = 'finished' | 'newer-filing' | 'lease-lost';

/**
 * Ends a replay whose job is already queued again (see `FINISH`): the filing `entry` goes, its
 * batch item is pending again. `leaseToken`: the replay's hold on the entry's replay lease.
 */
export async function finishReplay(
  redis: RedisClient,
  prefix: string,
  entry: DeadLetter,
  leaseToken: string,
): Promise<ReplayFinish> {
  const { deadLetters: dl, batch } = atelierKeys(prefix);
  const keys = [
    dl.replayLease(entry.id),
    dl.entries,
    dl.byTime,
    dl.byCode(entry.code),
    dl.byQueue(entry.queue),
    dl.codes,
    dl.byTenant(jobTenant(entry.meta)),
  ];
  const { batchId, batchIndex } = entry.meta;
  const inBatch = batchId !== undefined && batchIndex !== undefined;
  if (batchId !== undefined) keys.push(dl.byBatch(batchId));
  if (inBatch) keys.push(batch.meta(batchId), batch.items(batchId), batch.open);
  const result = await FINISH.run(redis, keys, [
    entry.id,
    entry.failedAt,
    entry.meta.replays ?? 0,
    entry.code,
    leaseToken,
    inBatch ? batchIndex : '',
    inBatch ? batchId : '',
  ]);
  return result === 1 ? 'finished' : result === 0 ? 'newer-filing' : 'lease-lost';
}
