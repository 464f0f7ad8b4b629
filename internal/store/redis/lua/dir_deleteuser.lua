-- dir_deleteuser.lua: ARGV: address, domain.
local D = '{dir}'
local id = redis.call('HGET', D .. ':users', ARGV[1])
if not id then fail('ERR_NOTFOUND', 'user ' .. ARGV[1]) end
redis.call('HDEL', D .. ':users', ARGV[1])
redis.call('DEL', D .. ':user:' .. id)
redis.call('SREM', D .. ':domain:' .. ARGV[2], ARGV[1])
return 1
