/**
 * The shared limiter's state and its one Lua script. One Redis hash per account,
 * `<prefix>:rate:<account>` (a single key, so cluster-safe; it shares the prefix's hash tag), holds:
 *
 *   tat        the next free send time (ms, Redis clock): GCRA, one request every 1000/rate ms
 *   rate       the current rate (requests/s): the fixed one, or the automatic one (AIMD)
 *   mode       `fixed` or `auto`, as the last worker to use it was configured
 *   raised_at  auto: when the rate last grew (it grows once per full second at full speed)
 *   cut_at     auto: when a 429 last cut the rate (absent: still in slow start)
 *   peak       auto: the rate a 429 last cut: below 98% of it the rate climbs back fast (half the gap
 *              a second, at least `step`), above it slowly (`step / 2` a second), probing for more
 *   cuts       auto: 429s that cut the rate
 *   seen429    429s reported since `seen429_at` (a one-second count): auto cuts on the second 429 of
 *              a second (or 1% of the rate, if more), not on a lone one a late send can cause
 *
 * Every worker process of every machine reserves its send times here, so the spacing holds across
 * the deployment; the clock is Redis's own (TIME), so process clocks need not agree.
 */
import type { RedisClient } from '../redis-connection.js';

/** Automatic rate settings (WORKER_RATE_AUTO_* in the configuration). */
export interface AutoRateSettings {
  /** Requests/s a deployment starts from. */
  start: number;
  min: number;
  max: number;
  /** After the first 429: the least requests/s added per second back to the last cut; half that above it. */
  step: number;
  /** Factor a 429 multiplies the rate by. */
  cut: number;
  /** After a cut, 429s for this long cut nothing more. */
  cooldownMs: number;
}

export const DEFAULT_AUTO_RATE: AutoRateSettings = {
  start: 50,
  min: 1,
  max: 1_000,
  step: 4,
  cut: 0.9,
  cooldownMs: 1_000,
};

/** Before the first 429 the rate grows by this factor a second (slow start). */
export const SLOW_START_FACTOR = 1.25;
/** The learned rate is forgotten after a day without traffic. */
const STATE_TTL_MS = 86_400_000;

export function rateKey(prefix: string, account: string): string {
  return `${prefix}:rate:${account}`;
}

/**
 * ARGV: op (acquire | throttled), mode (fixed | auto), fixed rate, start, min, max, step, cut,
 * cooldown ms, retry-after ms, slow-start factor, ttl ms.
 * Returns { wait in microseconds, rate x 1000, Redis clock in ms }.
 */
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local s = redis.call('HMGET', KEYS[1], 'tat', 'rate', 'raised_at', 'cut_at', 'cuts', 'peak', 'seen429_at', 'seen429')
local op, auto = ARGV[1], ARGV[2] == 'auto'
local minR, maxR = tonumber(ARGV[5]), tonumber(ARGV[6])
local tat = tonumber(s[1]) or 0
local rate = tonumber(ARGV[3])
local raisedAt = tonumber(s[3]) or now
local cutAt = tonumber(s[4])
local cuts = tonumber(s[5]) or 0
local peak = tonumber(s[6])
local wait = 0
if auto then rate = math.max(minR, math.min(maxR, tonumber(s[2]) or tonumber(ARGV[4]))) end
if op == 'acquire' then
  if auto then
    local interval = 1000 / rate
    if tat < now - 2 * interval or now - raisedAt > 5000 then
      raisedAt = now
    elseif now - raisedAt >= 1000 then
      local steps = math.floor((now - raisedAt) / 1000)
      if cutAt == nil or peak == nil then
        rate = rate * tonumber(ARGV[11]) ^ steps
      else
        local step, target = tonumber(ARGV[7]), peak * 0.98
        for _ = 1, math.min(steps, 5) do
          if rate < target then rate = math.min(target, rate + math.max(step, (target - rate) / 2))
          else rate = rate + step / 2 end
        end
      end
      rate = math.min(maxR, rate)
      raisedAt = raisedAt + steps * 1000
    end
  end
  local start = math.max(tat, now)
  wait = start - now
  tat = start + 1000 / rate
else
  -- One 429 in a second may be a late send meeting a sliding window; two (or 1% of the rate) is the limit.
  local seenAt, seen = tonumber(s[7]) or 0, tonumber(s[8]) or 0
  if now - seenAt > 1000 then seenAt, seen = now, 0 end
  seen = seen + 1
  redis.call('HSET', KEYS[1], 'seen429_at', tostring(seenAt), 'seen429', seen)
  if auto and seen >= math.max(2, math.ceil(rate / 100)) and (cutAt == nil or now - cutAt >= tonumber(ARGV[9])) then
    peak = rate
    rate = math.max(minR, rate * tonumber(ARGV[8]))
    cutAt = now
    raisedAt = now
    cuts = cuts + 1
  end
  local retryAfter = tonumber(ARGV[10])
  if retryAfter > 0 then tat = math.max(tat, now + retryAfter) end
end
redis.call('HSET', KEYS[1], 'tat', tostring(tat), 'rate', tostring(rate), 'mode', ARGV[2], 'raised_at', tostring(raisedAt), 'cuts', cuts)
if cutAt ~= nil then redis.call('HSET', KEYS[1], 'cut_at', tostring(cutAt)) end
if peak ~= nil then redis.call('HSET', KEYS[1], 'peak', tostring(peak)) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[12]))
return { math.floor(wait * 1000), math.floor(rate * 1000), math.floor(now) }
`;

export interface RateAnswer {
  /** How long to wait before sending (0: at once). */
  waitMs: number;
  /** The rate in force, requests/s. */
  ratePerSecond: number;
  /** Redis's clock (ms) when the script ran: the send time is `redisNowMs + waitMs` on that clock. */
  redisNowMs: number;
}

/** Runs one step of the shared limiter: reserve a send time, or report a 429. */
export async function runRateScript(
  connection: RedisClient,
  key: string,
  op: 'acquire' | 'throttled',
  limit: number | 'auto',
  auto: AutoRateSettings,
  retryAfterMs = 0,
): Promise<RateAnswer> {
  const [waitUs, rateMilli, redisNowMs] = (await connection.eval(
    SCRIPT,
    1,
    key,
    op,
    limit === 'auto' ? 'auto' : 'fixed',
    limit === 'auto' ? 0 : limit,
    auto.start,
    auto.min,
    auto.max,
    auto.step,
    auto.cut,
    auto.cooldownMs,
    Math.max(0, Math.round(retryAfterMs)),
    SLOW_START_FACTOR,
    STATE_TTL_MS,
  )) as [number, number, number];
  return { waitMs: waitUs / 1000, ratePerSecond: rateMilli / 1000, redisNowMs };
}

/** What `status` shows of an account's limiter, from its hash; undefined when no worker used it yet. */
export interface RateState {
  mode: 'fixed' | 'auto';
  per_second: number;
  /** auto: 429s that cut the rate while the state lived. */
  cuts: number;
  /** auto: when a 429 last cut it. */
  last_cut_at?: string;
}

export async function readRateState(
  connection: RedisClient,
  prefix: string,
  account: string,
): Promise<RateState | undefined> {
  const raw = await connection.hgetall(rateKey(prefix, account));
  if (raw.rate === undefined) return undefined;
  const cutAt = Number(raw.cut_at);
  return {
    mode: raw.mode === 'auto' ? 'auto' : 'fixed',
    per_second: Math.round(Number(raw.rate) * 100) / 100,
    cuts: Number(raw.cuts ?? 0),
    ...(raw.cut_at === undefined ? {} : { last_cut_at: new Date(cutAt).toISOString() }),
  };
}
