-- Take a token for one application, or only look: one atomic call, Redis's clock.
-- KEYS: the minute, hour and day buckets' counters, then the refusal counts (one hash tag).
-- ARGV: capacity and period (ms) of each bucket in order, then "take" or "peek".
-- A counter holds the tokens used in the running period; its expiry is the period's end, set
-- at the first use (absolute, PXAT: Redis 7), so a bucket is full again when its key is gone.
-- Returns: served bucket (1-3, 0 = refused), now (ms), then used and ms-to-reset (-2 = no
-- period running) per bucket; with "peek", the refusals of the last 60 minutes at the end.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local take = ARGV[7] == 'take'
local result = {0, now}
for i = 1, 3 do
  local capacity, period = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local used = tonumber(redis.call('GET', KEYS[i]) or '0')
  -- The period's end as an absolute time, against `now`: PTTL counts from the script's own
  -- snapshot of the clock, which may be a millisecond off TIME's, and the end would move.
  local ends = redis.call('PEXPIRETIME', KEYS[i])
  local ttl = ends - now
  if ends < 0 or ttl <= 0 then used, ttl = 0, -2 end  -- gone, or going now: full again
  if ttl > period then  -- the period was shortened since it started: it ends by the new one
    redis.call('PEXPIREAT', KEYS[i], now + period)
    ttl = period
  end
  if take and result[1] == 0 and used < capacity then
    if ttl < 0 then
      redis.call('SET', KEYS[i], 1, 'PXAT', now + period)
      used, ttl = 1, period
    else
      used = redis.call('INCR', KEYS[i])
    end
    result[1] = i
  end
  result[#result + 1] = used
  result[#result + 1] = ttl
end
local minute = math.floor(now / 60000)
if take and result[1] == 0 then
  redis.call('HINCRBY', KEYS[4], minute, 1)
  redis.call('PEXPIRE', KEYS[4], 61 * 60000)
  if redis.call('HLEN', KEYS[4]) > 61 then
    for _, field in ipairs(redis.call('HKEYS', KEYS[4])) do
      if tonumber(field) <= minute - 60 then redis.call('HDEL', KEYS[4], field) end
    end
  end
elseif not take then
  local refused, counts = 0, redis.call('HGETALL', KEYS[4])
  for j = 1, #counts, 2 do
    if tonumber(counts[j]) > minute - 60 then refused = refused + tonumber(counts[j + 1]) end
  end
  result[#result + 1] = refused
end
return result
