-- queue_prelude.lua: helpers of the queue scripts (after prelude.lua).
-- Q is the key prefix {q:<name>} of one queue.
local GROUP = 'bucketmail'

local function ensureGroup(Q)
  if redis.call('EXISTS', Q .. ':stream') == 0 then
    redis.call('XGROUP', 'CREATE', Q .. ':stream', GROUP, '0', 'MKSTREAM')
  end
end

-- makeReady puts a job in the stream, or in the delayed set for delay ms.
local function makeReady(Q, id, delay, now)
  local jk = Q .. ':job:' .. id
  if delay > 0 then
    redis.call('ZADD', Q .. ':delayed', now + delay, id)
    redis.call('HSET', jk, 's', 'r', 'x', '')
  else
    local x = redis.call('XADD', Q .. ':stream', '*', 'id', id)
    redis.call('HSET', jk, 's', 'r', 'x', x)
  end
end

-- detach takes a job out of the stream (and the group's pending list), the
-- leases and the delayed set.
local function detach(Q, id, x)
  if x and x ~= '' then
    redis.call('XACK', Q .. ':stream', GROUP, x)
    redis.call('XDEL', Q .. ':stream', x)
  end
  redis.call('ZREM', Q .. ':leases', id)
  redis.call('ZREM', Q .. ':delayed', id)
end

local function bury(Q, id, x, reason)
  detach(Q, id, x)
  redis.call('HSET', Q .. ':job:' .. id, 's', 'd', 'e', reason, 'x', '', 'c', '')
  redis.call('XADD', Q .. ':dead', '*', 'id', id)
end
