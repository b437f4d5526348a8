/**
 * The ledger's Lua scripts: each change of a run's counts or state is one atomic step, so two
 * workers ending the last two jobs of a run at once end it exactly once, and a job whose end is
 * reported twice (a worker died between its DELETE and BullMQ's completion) is counted once.
 *
 * Every script answers `{code, state}`: code 0 nothing changed, 1 changed, 2 this call ended the run.
 */

/**
 * Ends the run when every enqueued job ended (only once it is known how many were enqueued, i.e.
 * from state `enqueued` on). Expects `hash`, `now` and `ttl` locals; leaves `code` and `state`.
 */
const SETTLE = `
local function total(h)
  local n = 0
  for _, f in ipairs({'deleted', 'already_gone', 'dead_lettered', 'cancelled'}) do
    n = n + (tonumber(redis.call('HGET', h, f)) or 0)
  end
  return n
end
local function settle(h, endedKey, goneKey, now, changed)
  local state = redis.call('HGET', h, 'state')
  if state ~= 'enqueued' and state ~= 'running' and state ~= 'cancelled' then return {changed, state} end
  local enqueued = tonumber(redis.call('HGET', h, 'enqueued') or '-1')
  if enqueued < 0 or total(h) < enqueued then return {changed, state} end
  redis.call('DEL', endedKey)
  if state == 'cancelled' then return {changed, state} end
  redis.call('HSET', h, 'state', 'finished', 'finished_at', now)
  return {2, 'finished'}
end
`;

/**
 * A job of the run ended. KEYS: run hash, ended set, gone set. ARGV: job id, outcome
 * (deleted | already_gone | dead_lettered | cancelled), now (ISO), ttl seconds.
 */
export const JOB_END_SCRIPT = `${SETTLE}
local h, endedKey, goneKey = KEYS[1], KEYS[2], KEYS[3]
local state = redis.call('HGET', h, 'state')
if not state or state == 'finished' or state == 'failed' then return {0, state or ''} end
if state == 'cancelled' and redis.call('EXISTS', endedKey) == 0 and redis.call('HEXISTS', h, 'enqueued') == 1
  and total(h) >= tonumber(redis.call('HGET', h, 'enqueued')) then
  return {0, state}
end
if redis.call('SADD', endedKey, ARGV[1]) == 0 then return {0, state} end
redis.call('EXPIRE', endedKey, ARGV[4])
redis.call('HINCRBY', h, ARGV[2], 1)
if redis.call('HGET', h, 'verify') == '1' and (ARGV[2] == 'deleted' or ARGV[2] == 'already_gone') then
  redis.call('SADD', goneKey, ARGV[1])
  redis.call('EXPIRE', goneKey, ARGV[4])
end
if state == 'enqueued' and ARGV[2] ~= 'cancelled' then redis.call('HSET', h, 'state', 'running') end
return settle(h, endedKey, goneKey, ARGV[3], 1)`;

/**
 * The run's jobs are all in the queue. KEYS: run hash, ended set, gone set. ARGV: selected,
 * enqueued, duplicates, now (ISO), report JSON. `enqueued` adds up over the attempts of one run id
 * (each attempt's new jobs carry it); a cancelled run stays cancelled.
 */
export const ENQUEUED_SCRIPT = `${SETTLE}
local h = KEYS[1]
local state = redis.call('HGET', h, 'state')
if not state or state == 'finished' or state == 'failed' then return {0, state or ''} end
redis.call('HINCRBY', h, 'enqueued', ARGV[2])
redis.call('HSET', h, 'selected', ARGV[1], 'duplicates', ARGV[3], 'enqueued_at', ARGV[4], 'report', ARGV[5])
if state == 'listing' then redis.call('HSET', h, 'state', 'enqueued') end
return settle(h, KEYS[2], KEYS[3], ARGV[4], 1)`;

/**
 * Moves a run that is not over to `to` (cancelled or failed). KEYS: run hash. ARGV: to, now, error.
 */
export const STOP_SCRIPT = `
local h = KEYS[1]
local state = redis.call('HGET', h, 'state')
if not state then return {0, ''} end
if state ~= 'listing' and state ~= 'enqueued' and state ~= 'running' then return {0, state} end
redis.call('HSET', h, 'state', ARGV[1], 'finished_at', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', h, 'error', ARGV[3]) end
return {2, ARGV[1]}`;

/**
 * Drops runs past the retention: older than the cutoff, or beyond the newest `max`. KEYS: index.
 * ARGV: key prefix of a run (`<prefix>:runs:run:`), cutoff (ms), max. Answers how many went.
 */
export const TRIM_SCRIPT = `
local index, base = KEYS[1], ARGV[1]
local gone = redis.call('ZRANGEBYSCORE', index, '-inf', '(' .. ARGV[2], 'LIMIT', 0, 1000)
local excess = redis.call('ZCARD', index) - #gone - tonumber(ARGV[3])
if excess > 0 then
  for _, id in ipairs(redis.call('ZRANGE', index, #gone, #gone + math.min(excess, 1000) - 1)) do
    table.insert(gone, id)
  end
end
for _, id in ipairs(gone) do
  redis.call('DEL', base .. id, base .. id .. ':ended', base .. id .. ':gone')
  redis.call('ZREM', index, id)
end
return #gone`;
