import { COMPLETION_FIELD, HOLDS_LOCK_LUA } from './job-fence.ts';
import { LuaScript } from './lua-script.ts';

/**
 * Lua shared by the scripts that can finish a batch (the last item settled, the last chunk
 * counted, its enqueue closed): state (`incomplete` when items were not queued), open set,
 * retention TTLs, and — for a batch named by an idempotency key — a marker that outlives the
 * record so the key cannot silently start the same ids again.
 */
const FINISH = `
local function finish(meta, items, open, gone, id, at, ttl, goneTtl)
  local notQueued = tonumber(redis.call('HGET', meta, 'notQueuedCount') or '0')
  local state = notQueued > 0 and 'incomplete' or 'completed'
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
`;

/**
 * Lua that undoes a dead item (its dead letter is being replayed): pending again, batch
 * reopened, and kept until it finishes again (a finished batch's keys carry its retention as a
 * TTL). Returns 1 when it reopened, 0 when there was no batch or the item was not dead.
 */
export const REOPEN_ITEM = `
local function reopenItem(meta, items, open, index, id)
  if redis.call('EXISTS', meta) == 0 then return 0 end
  local prev = redis.call('HGET', items, index)
  if not prev or string.sub(prev, 1, 1) ~= 'd' then return 0 end
  redis.call('HDEL', items, index)
  redis.call('HINCRBY', meta, 'dead', -1)
  redis.call('HSET', meta, 'state', 'open')
  redis.call('HDEL', meta, 'completedAt')
  redis.call('SADD', open, id)
  redis.call('PERSIST', meta)
  redis.call('PERSIST', items)
  return 1
end
`;

/**
 * Records an item's outcome once. Counters move only when the item's state changes, so an
 * item retried, replayed or settled twice by a crashed worker is counted once; a completed
 * item never turns dead (a completed job never runs again: a run that says otherwise came too
 * late). Returns {changed, justFinished, finished}: justFinished is 1 for exactly one call per
 * completion; finished says the batch is completed (or incomplete) after this call (whoever
 * finished it). An item listed as not queued when its batch's enqueue was closed, that ran
 * after all (its add landed later), leaves the list and counts as queued.
 * KEYS[1..4]: meta, items, open, gone. ARGV[1..6]: index, value, now, ttl, id, goneTtl.
 * Item values are "<c|d>|<json>".
 */
const SETTLE_LUA = `
local function settleItem()
  local function finished() return redis.call('HGET', KEYS[1], 'state') ~= 'open' and 1 or 0 end
  local prev = redis.call('HGET', KEYS[2], ARGV[1])
  local new = ARGV[2]
  if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0, 0} end
  if prev and string.sub(prev, 1, 1) == string.sub(new, 1, 1) then return {0, 0, finished()} end
  if prev and string.sub(prev, 1, 1) == 'c' then return {0, 0, finished()} end
  local listed = redis.call('HGET', KEYS[1], 'notQueued')
  if not prev and listed then
    local index, ranges, kept, found = tonumber(ARGV[1]), cjson.decode(listed), {}, false
    for _, r in ipairs(ranges) do
      if index >= r.first and index <= r.last then
        found = true
        if r.first < index then kept[#kept + 1] = {first = r.first, last = index - 1} end
        if index < r.last then kept[#kept + 1] = {first = index + 1, last = r.last} end
      else
        kept[#kept + 1] = r
      end
    end
    if found then
      if #kept == 0 then redis.call('HDEL', KEYS[1], 'notQueued')
      else redis.call('HSET', KEYS[1], 'notQueued', cjson.encode(kept)) end
      local left = redis.call('HINCRBY', KEYS[1], 'notQueuedCount', -1)
      redis.call('HINCRBY', KEYS[1], 'enqueued', 1)
      if left == 0 and redis.call('HGET', KEYS[1], 'state') == 'incomplete' then
        redis.call('HSET', KEYS[1], 'state', 'completed')
      end
    end
  end
  redis.call('HSET', KEYS[2], ARGV[1], new)
  if prev and string.sub(prev, 1, 1) == 'd' then redis.call('HINCRBY', KEYS[1], 'dead', -1) end
  if string.sub(new, 1, 1) == 'c' then redis.call('HINCRBY', KEYS[1], 'completed', 1)
  else redis.call('HINCRBY', KEYS[1], 'dead', 1) end
  local m = redis.call('HMGET', KEYS[1], 'total', 'completed', 'dead', 'state', 'enqueued', 'notQueuedCount')
  local done = tonumber(m[2]) + tonumber(m[3])
  local expected = tonumber(m[1]) - tonumber(m[6] or '0')
  if m[4] == 'open' and done >= expected and tonumber(m[5]) >= expected then
    finish(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[5], ARGV[3], ARGV[4], ARGV[6])
    return {1, 1, 1}
  end
  return {1, 0, finished()}
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
   * Counts enqueued items; finishes the batch if every item had already settled (returns 2).
   * A batch whose enqueue was closed counts nothing more (returns -1).
   * KEYS: meta, items, open, gone. ARGV: count, now, ttl, id, goneTtl.
   */
  enqueued: new LuaScript(`${FINISH}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], 'cutAt') == 1 then return -1 end
local enq = redis.call('HINCRBY', KEYS[1], 'enqueued', tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 'progressAt', ARGV[2])
local m = redis.call('HMGET', KEYS[1], 'total', 'completed', 'dead', 'state')
if m[4] == 'open' and enq >= tonumber(m[1]) and tonumber(m[2]) + tonumber(m[3]) >= tonumber(m[1]) then
  finish(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[4], ARGV[2], ARGV[3], ARGV[5])
  return 2
end
return 1
`),

  /**
   * Records an item's outcome once (`SETTLE_LUA`). KEYS: meta, items, open, gone. ARGV: index,
   * value, now, ttl, id, goneTtl.
   */
  settle: new LuaScript(`${FINISH}${SETTLE_LUA}
return settleItem()
`),

  /**
   * The same, only while the settling worker holds the job's lock ({-1} when it does not),
   * and recording the job's completion in its hash when ARGV[8] is set (same script: the
   * completion is recorded exactly when the item is). KEYS: as settle, then job hash, lock.
   * ARGV: as settle, then lock token, completion record ('' for none).
   */
  fencedSettle: new LuaScript(`${FINISH}${HOLDS_LOCK_LUA}${SETTLE_LUA}
if not holdsLock(KEYS[5], KEYS[6], ARGV[7]) then return {-1, 0, 0} end
if ARGV[8] ~= '' then redis.call('HSET', KEYS[5], '${COMPLETION_FIELD}', ARGV[8]) end
return settleItem()
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
   * Closes the enqueue of a batch (no idempotency key) whose enqueuer stopped part-way, by the
   * holder of its enqueue lease: items [0, enqueued) are queued, items sent but not counted
   * [enqueued, sentTo) are queued if their job (or their result line) exists, the rest are not
   * queued. Records {cutAt, enqueued, notQueuedCount, notQueued: [{first, last}]}; the batch
   * then finishes (incomplete) once its queued items settled — at once if they all have.
   * KEYS: meta, items, open, gone, lease, then the BullMQ job hash of each item from ARGV[6] on.
   * ARGV: lease token, now, ttl, id, goneTtl, first index whose job hash is in KEYS.
   * Returns {status, finished}: 1 closed, 0 nothing to close, -1 lease not held, -2 the
   * window of items sent but not counted is not the one KEYS cover (read it again).
   */
  cut: new LuaScript(`${FINISH}
if redis.call('GET', KEYS[5]) ~= ARGV[1] then return {-1, 0} end
local m = redis.call('HMGET', KEYS[1], 'total', 'enqueued', 'sentTo', 'state', 'keyed', 'cutAt', 'completed', 'dead')
if not m[1] or m[4] ~= 'open' or m[5] == '1' or m[6] or not m[3] then return {0, 0} end
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
for i = enq, sent - 1 do
  if redis.call('EXISTS', KEYS[6 + i - from]) == 0 and redis.call('HEXISTS', KEYS[2], tostring(i)) == 0 then
    miss(i, i)
  end
end
if sent < total then miss(sent, total - 1) end
local queued = total - count
redis.call('HSET', KEYS[1], 'cutAt', ARGV[2], 'enqueued', queued, 'notQueuedCount', count)
if count > 0 then redis.call('HSET', KEYS[1], 'notQueued', cjson.encode(ranges)) end
if tonumber(m[7]) + tonumber(m[8]) >= queued then
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
