-- claim.lua: lease up to max jobs to a consumer, in one atomic step:
-- 1. delayed jobs whose time has come move into the stream;
-- 2. jobs whose lease expired are claimed over (XCLAIM), or buried after
--    max attempts (their worker keeps dying on them);
-- 3. new stream entries are read for the group (XREADGROUP).
-- Each claimed job's attempts and lease end are recorded in the same step,
-- so Ack/Retry/Bury can be fenced by attempts.
-- Done records older than the retention are pruned too, so that a queue
-- that went quiet ends with none (settle.lua prunes on Ack).
-- ARGV: Q, consumer, max, lease ms, max attempts, done retention ms.
-- Returns {ms until the next delayed job or lease end (-1: none),
--          last stream entry id, {id, envelope, attempts, last error, not-before, state, ...}}.
local Q, consumer = ARGV[1], ARGV[2]
local max, lease, maxAttempts = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local stream = Q .. ':stream'
local now = nowMs()
ensureGroup(Q)
redis.call('ZREMRANGEBYSCORE', Q .. ':done', '-inf', string.format('(%d', now - tonumber(ARGV[6])))

while true do
  local due = redis.call('ZRANGEBYSCORE', Q .. ':delayed', '-inf', now, 'LIMIT', 0, 100)
  if #due == 0 then break end
  for _, id in ipairs(due) do
    redis.call('ZREM', Q .. ':delayed', id)
    makeReady(Q, id, 0, now)
  end
end

local out, got = {}, 0
local function take(id)
  local jk = Q .. ':job:' .. id
  local a = redis.call('HINCRBY', jk, 'a', 1)
  redis.call('HSET', jk, 's', 'c', 'c', consumer)
  redis.call('ZADD', Q .. ':leases', now + lease, id)
  local f = redis.call('HMGET', jk, 'p', 'e', 'nb', 'st')
  out[#out + 1] = id
  out[#out + 1] = f[1]
  out[#out + 1] = a
  out[#out + 1] = f[2] or ''
  out[#out + 1] = f[3] or '0'
  out[#out + 1] = f[4] or ''
  got = got + 1
end

while got < max do
  local expired = redis.call('ZRANGEBYSCORE', Q .. ':leases', '-inf', now, 'LIMIT', 0, max - got)
  if #expired == 0 then break end
  for _, id in ipairs(expired) do
    local f = redis.call('HMGET', Q .. ':job:' .. id, 'a', 'x')
    if not f[1] then
      redis.call('ZREM', Q .. ':leases', id)
    elseif tonumber(f[1]) >= maxAttempts then
      bury(Q, id, f[2], 'lease expired after ' .. f[1] .. ' attempts')
    else
      redis.call('XCLAIM', stream, GROUP, consumer, 0, f[2], 'JUSTID')
      take(id)
    end
  end
end

if got < max then
  local r = redis.call('XREADGROUP', 'GROUP', GROUP, consumer, 'COUNT', max - got, 'STREAMS', stream, '>')
  if r then
    for _, e in ipairs(r[1][2]) do
      local x, id = e[1], e[2][2]
      if redis.call('HGET', Q .. ':job:' .. id, 'x') == x then
        take(id)
      else -- stale entry of a job settled meanwhile (cannot happen: settling deletes it)
        redis.call('XACK', stream, GROUP, x)
        redis.call('XDEL', stream, x)
      end
    end
  end
end

local wake = -1
for _, k in ipairs({Q .. ':delayed', Q .. ':leases'}) do
  local first = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')
  if first[2] then
    local w = tonumber(first[2]) - now
    if wake < 0 or w < wake then wake = w end
  end
end
local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
local lastID = '0-0'
if last[1] then lastID = last[1][1] end
return {math.max(wake, -1), lastID, out}
