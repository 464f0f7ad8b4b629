-- stats.lua: ARGV: Q. Returns {pending, in flight, delayed, dead}. An
-- expired lease counts as pending, a delayed job whose time has come too.
local Q = ARGV[1]
local now = nowMs()
local stream = Q .. ':stream'
local inGroup, len = 0, 0
if redis.call('EXISTS', stream) == 1 then
  inGroup = redis.call('XPENDING', stream, GROUP)[1]
  len = redis.call('XLEN', stream)
end
local expired = redis.call('ZCOUNT', Q .. ':leases', '-inf', now)
local due = redis.call('ZCOUNT', Q .. ':delayed', '-inf', now)
return {
  len - inGroup + expired + due,
  inGroup - expired,
  redis.call('ZCOUNT', Q .. ':delayed', '(' .. now, '+inf'),
  redis.call('XLEN', Q .. ':dead'),
}
