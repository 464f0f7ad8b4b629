-- lease.lua: take or renew a lease. KEYS[1]: the lease key.
-- ARGV: holder, ttl ms. The key holds the holder and expires with the
-- lease, so an expired lease is simply free. Returns 1 if holder has it.
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
