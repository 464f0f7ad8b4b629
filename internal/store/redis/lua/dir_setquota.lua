-- dir_setquota.lua: ARGV: address, quota (bytes; 0 default, -1 unlimited).
local D = '{dir}'
local id = redis.call('HGET', D .. ':users', ARGV[1])
if not id then fail('ERR_NOTFOUND', 'user ' .. ARGV[1]) end
redis.call('HSET', D .. ':user:' .. id, 'quota', ARGV[2])
return 1
