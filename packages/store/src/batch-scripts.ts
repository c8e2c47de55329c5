import { COMPLETION_FIELD, HOLDS_LOCK_LUA } from './job-fence.ts';
import { LuaScript } from './lua-script.ts';

/**
 * Lua every script that settles batch items or finishes batches shares:
 * - `unfinished(state)`: a batch still running (`open`, `paused`, or `cancelling` while items
 *   already paid finish);
 * - `finish(...)`: the batch is over — `cancelled` when a cancel was asked for, `incomplete`
 *   when its enqueue was cut off and items were never queued, else `completed` — with the open
 *   set, retention TTLs and, for a batch named by an idempotency key, a marker that outlives
 *   the record so the key cannot silently start the same ids again;
 * - `finishIfDone(...)`: finishes it when every queued item settled and everything expected was
 *   queued (items never queued are not expected);
 * - `settleItem(...)`: records an item's outcome once. Counters move only when the item's
 *   state changes, so an item retried, replayed or settled twice by a crashed worker is counted
 *   once; a completed item never turns dead and a cancelled one never turns anything else (a
 *   job that ended never runs again: a run that says otherwise came too late). An item listed
 *   as not queued when its batch's enqueue was closed, that ran after all (its add landed
 *   later), leaves the list and counts as queued. Item values are `<c|d|x>|<json>` (completed,
 *   dead, cancelled). Returns {changed, justFinished, finished}: justFinished is 1 for exactly
 *   one call per finish; finished says the batch is over after this call (whoever finished it).
 */
export const BATCH_LUA = `
local function unfinished(state)
  return state == 'open' or state == 'paused' or state == 'cancelling'
end
local function finish(meta, items, open, gone, id, at, ttl, goneTtl)
  local notQueued = tonumber(redis.call('HGET', meta, 'notQueuedCount') or '0')
  local state = notQueued > 0 and 'incomplete' or 'completed'
  if redis.call('HGET', meta, 'state') == 'cancelling' then state = 'cancelled' end
  redis.call('HSET', meta, 'state', state, 'completedAt', at)
  redis.call('SREM', open, id)
  if tonumber(ttl) > 0 then
    redis.call('PEXPIRE', meta, ttl)
    redis.call('PEXPIRE', items, ttl)
    if redis.call('HGET', meta, 'keyed') == '1' then
      redis.call('SET', gone, at, 'PX', tonumber(ttl) + tonumber(goneTtl))
    end
  end
end
local function finishIfDone(meta, items, open, gone, id, at, ttl, goneTtl)
  local m = redis.call('HMGET', meta, 'total', 'completed', 'dead', 'cancelled', 'state',
    'enqueued', 'notQueuedCount')
  local done = tonumber(m[2] or 0) + tonumber(m[3] or 0) + tonumber(m[4] or 0)
  local expected = tonumber(m[1]) - tonumber(m[7] or 0)
  if unfinished(m[5]) and done >= expected and tonumber(m[6] or 0) >= expected then
    finish(meta, items, open, gone, id, at, ttl, goneTtl)
    return true
  end
  return false
end
local function countAsQueued(meta, index)
  local listed = redis.call('HGET', meta, 'notQueued')
  if not listed then return end
  local at, ranges, kept, found = tonumber(index), cjson.decode(listed), {}, false
  for _, r in ipairs(ranges) do
    if at >= r.first and at <= r.last then
      found = true
      if r.first < at then kept[#kept + 1] = {first = r.first, last = at - 1} end
      if at < r.last then kept[#kept + 1] = {first = at + 1, last = r.last} end
    else
      kept[#kept + 1] = r
    end
  end
  if not found then return end
  if #kept == 0 then redis.call('HDEL', meta, 'notQueued')
  else redis.call('HSET', meta, 'notQueued', cjson.encode(kept)) end
  local left = redis.call('HINCRBY', meta, 'notQueuedCount', -1)
  redis.call('HINCRBY', meta, 'enqueued', 1)
  if left == 0 and redis.call('HGET', meta, 'state') == 'incomplete' then
    redis.call('HSET', meta, 'state', 'completed')
  end
end
local COUNTER = { c = 'completed', d = 'dead', x = 'cancelled' }
local function settleItem(meta, items, open, gone, index, value, now, ttl, id, goneTtl)
  local function finished() return unfinished(redis.call('HGET', meta, 'state')) and 0 or 1 end
  if redis.call('EXISTS', meta) == 0 then return {0, 0, 0} end
  local prev = redis.call('HGET', items, index)
  local new = string.sub(value, 1, 1)
  if prev then
    local was = string.sub(prev, 1, 1)
    if was == new or was == 'c' or was == 'x' or new == 'x' then return {0, 0, finished()} end
  else
    countAsQueued(meta, index)
  end
  redis.call('HSET', items, index, value)
  if prev then redis.call('HINCRBY', meta, 'dead', -1) end
  redis.call('HINCRBY', meta, COUNTER[new], 1)
  if finishIfDone(meta, items, open, gone, id, now, ttl, goneTtl) then return {1, 1, 1} end
  return {1, 0, finished()}
end
`;

/**
 * Lua that undoes a dead item (its dead letter is being replayed): pending again, batch
 * reopened (a cancelled batch goes back to `cancelling`: the item will not be submitted unless
 * it already was), and kept until it finishes again (a finished batch's keys carry its
 * retention as a TTL). Returns 1 when it reopened, 0 when there was no batch or the item was
 * not dead.
 */
export const REOPEN_ITEM = `
local function reopenItem(meta, items, open, index, id)
  if redis.call('EXISTS', meta) == 0 then return 0 end
  local prev = redis.call('HGET', items, index)
  if not prev or string.sub(prev, 1, 1) ~= 'd' then return 0 end
  redis.call('HDEL', items, index)
  redis.call('HINCRBY', meta, 'dead', -1)
  local state = redis.call('HGET', meta, 'state')
  if state == 'cancelled' then state = 'cancelling'
  elseif state == 'completed' or state == 'incomplete' then state = 'open' end
  redis.call('HSET', meta, 'state', state)
  redis.call('HDEL', meta, 'completedAt')
  redis.call('SADD', open, id)
  redis.call('PERSIST', meta)
  redis.call('PERSIST', items)
  return 1
end
`;

/** The batch ledger's scripts: each key they touch comes in `KEYS`. */
export const batchScripts = {
  /**
   * Creates the record and indexes it, unless it exists (0; -2 when it was created with another
   * content hash) or a batch of that id finished and expired recently (-1: its item ids may
   * still name old jobs and dead letters).
   * KEYS: meta, index, open, gone. ARGV: id, createdAt, contentHash ('' for none), field/value pairs.
   */
  create: new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  local stored = redis.call('HGET', KEYS[1], 'contentHash')
  if stored and ARGV[3] ~= '' and stored ~= ARGV[3] then return -2 end
  return 0
end
if redis.call('EXISTS', KEYS[4]) == 1 then return -1 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
`),

  /**
   * Counts enqueued items (and, for a batch whose images were reserved, their images);
   * finishes the batch if every item had already settled (returns 2). A batch whose enqueue
   * was closed counts nothing more (returns -1).
   * KEYS: meta, items, open, gone. ARGV: count, now, ttl, id, goneTtl, images.
   */
  enqueued: new LuaScript(`${BATCH_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], 'cutAt') == 1 then return -1 end
redis.call('HINCRBY', KEYS[1], 'enqueued', tonumber(ARGV[1]))
if redis.call('HEXISTS', KEYS[1], 'usageDay') == 1 then
  redis.call('HINCRBY', KEYS[1], 'enqueuedImages', tonumber(ARGV[6]))
end
redis.call('HSET', KEYS[1], 'progressAt', ARGV[2])
if finishIfDone(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[4], ARGV[2], ARGV[3], ARGV[5]) then
  return 2
end
return 1
`),

  /**
   * Records an item's outcome once (`settleItem`). KEYS: meta, items, open, gone. ARGV: index,
   * value, now, ttl, id, goneTtl.
   */
  settle: new LuaScript(`${BATCH_LUA}
return settleItem(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
`),

  /**
   * The same, only while the settling worker holds the job's lock ({-1} when it does not),
   * and recording the job's completion in its hash when ARGV[8] is set (same script: the
   * completion is recorded exactly when the item is). KEYS: as settle, then job hash, lock.
   * ARGV: as settle, then lock token, completion record ('' for none).
   */
  fencedSettle: new LuaScript(`${BATCH_LUA}${HOLDS_LOCK_LUA}
if not holdsLock(KEYS[5], KEYS[6], ARGV[7]) then return {-1, 0, 0} end
if ARGV[8] ~= '' then redis.call('HSET', KEYS[5], '${COMPLETION_FIELD}', ARGV[8]) end
return settleItem(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
`),

  /** `REOPEN_ITEM`. KEYS: meta, items, open. ARGV: index, id. */
  reopen: new LuaScript(`${REOPEN_ITEM}
return reopenItem(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2])
`),

  /**
   * Before an enqueuer sends items up to index ARGV[2] (exclusive): checks it still holds the
   * enqueue lease and the enqueue was not closed, notes how far items were sent, renews the
   * lease. Returns 1, or 0 when the enqueuer must stop.
   * KEYS: meta, lease. ARGV: lease token, sent up to, now, lease ms.
   */
  sending: new LuaScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'cutAt') == 1 then return 0 end
if tonumber(ARGV[2]) > tonumber(redis.call('HGET', KEYS[1], 'sentTo') or '0') then
  redis.call('HSET', KEYS[1], 'sentTo', ARGV[2])
end
redis.call('HSET', KEYS[1], 'progressAt', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
`),

  /**
   * Closes the enqueue of a batch (no idempotency key, not finished) whose enqueuer stopped
   * part-way, by the holder of its enqueue lease: items [0, enqueued) are queued, items sent but not counted
   * [enqueued, sentTo) are queued if their job (or their result line) exists, the rest are not
   * queued. Records {cutAt, enqueued, notQueuedCount, notQueued: [{first, last}]} (and adds the
   * images of the uncounted items found queued to `enqueuedImages`, for a batch whose images
   * were reserved); the batch then finishes (incomplete, or cancelled) once its queued items
   * settled — at once if they all have.
   * KEYS: meta, items, open, gone, lease, then the BullMQ job hash of each item from ARGV[6] on.
   * ARGV: lease token, now, ttl, id, goneTtl, first index whose job hash is in KEYS.
   * Returns {status, finished}: 1 closed, 0 nothing to close, -1 lease not held, -2 the
   * window of items sent but not counted is not the one KEYS cover (read it again).
   */
  cut: new LuaScript(`${BATCH_LUA}
if redis.call('GET', KEYS[5]) ~= ARGV[1] then return {-1, 0} end
local m = redis.call('HMGET', KEYS[1], 'total', 'enqueued', 'sentTo', 'state', 'keyed', 'cutAt', 'completed', 'dead', 'cancelled')
if not m[1] or not unfinished(m[4]) or m[5] == '1' or m[6] or not m[3] then return {0, 0} end
local total, enq = tonumber(m[1]), tonumber(m[2])
local sent = math.max(tonumber(m[3]), enq)
local from = tonumber(ARGV[6])
if enq < from or sent > from + #KEYS - 5 then return {-2, 0} end
local ranges, count = {}, 0
local function miss(first, last)
  local prev = ranges[#ranges]
  if prev and prev.last == first - 1 then prev.last = last
  else ranges[#ranges + 1] = {first = first, last = last} end
  count = count + last - first + 1
end
local reserved = redis.call('HEXISTS', KEYS[1], 'usageDay') == 1
local images = 0
for i = enq, sent - 1 do
  local job = KEYS[6 + i - from]
  if redis.call('EXISTS', job) == 0 and redis.call('HEXISTS', KEYS[2], tostring(i)) == 0 then
    miss(i, i)
  elseif reserved then
    local ok, data = pcall(cjson.decode, redis.call('HGET', job, 'data') or '{}')
    local num = ok and type(data) == 'table' and type(data.task) == 'table' and tonumber(data.task.num)
    images = images + (num or 1)
  end
end
if images > 0 then redis.call('HINCRBY', KEYS[1], 'enqueuedImages', images) end
if sent < total then miss(sent, total - 1) end
local queued = total - count
redis.call('HSET', KEYS[1], 'cutAt', ARGV[2], 'enqueued', queued, 'notQueuedCount', count)
if count > 0 then redis.call('HSET', KEYS[1], 'notQueued', cjson.encode(ranges)) end
if tonumber(m[7]) + tonumber(m[8]) + tonumber(m[9] or 0) >= queued then
  finish(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[4], ARGV[2], ARGV[3], ARGV[5])
  return {1, 1}
end
return {1, 0}
`),

  /** KEYS: meta. ARGV: completedAt. Notes that this completion was announced. */
  markAnnounced: new LuaScript(`
if redis.call('HGET', KEYS[1], 'completedAt') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'announced', ARGV[1])
return 1
`),
};
