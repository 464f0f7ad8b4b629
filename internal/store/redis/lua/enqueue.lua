-- enqueue.lua: ARGV: Q, id, envelope, delay ms, not-before (unix ns).
local Q, id = ARGV[1], ARGV[2]
local jk = Q .. ':job:' .. id
if redis.call('EXISTS', jk) == 1 then fail('ERR_EXISTS', 'job ' .. id) end
ensureGroup(Q)
redis.call('HSET', jk, 'p', ARGV[3], 'a', 0, 'e', '', 'nb', ARGV[5], 'c', '')
makeReady(Q, id, tonumber(ARGV[4]), nowMs())
return 1
