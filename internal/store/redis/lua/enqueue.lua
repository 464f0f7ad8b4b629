-- enqueue.lua: ARGV: Q, id, envelope, delay ms, not-before (unix ns), state.
-- A job enqueued again while the state of its acked predecessor is kept
-- (Q:done:<id>, see settle.lua) starts with that state.
local Q, id = ARGV[1], ARGV[2]
local jk = Q .. ':job:' .. id
if redis.call('EXISTS', jk) == 1 then fail('ERR_EXISTS', 'job ' .. id) end
ensureGroup(Q)
local st = ARGV[6]
if st == '' then st = redis.call('GET', Q .. ':done:' .. id) or '' end
redis.call('HSET', jk, 'p', ARGV[3], 'a', 0, 'e', '', 'nb', ARGV[5], 'c', '', 'st', st)
makeReady(Q, id, tonumber(ARGV[4]), nowMs())
return 1
