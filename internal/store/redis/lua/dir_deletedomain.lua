-- dir_deletedomain.lua: ARGV: domain. ErrInUse while users or aliases remain.
local D = '{dir}'
if redis.call('SISMEMBER', D .. ':domains', ARGV[1]) == 0 then fail('ERR_NOTFOUND', 'domain ' .. ARGV[1]) end
local n = redis.call('SCARD', D .. ':domain:' .. ARGV[1])
if n > 0 then fail('ERR_INUSE', 'domain ' .. ARGV[1] .. ' has ' .. n .. ' users and aliases') end
redis.call('SREM', D .. ':domains', ARGV[1])
return 1
