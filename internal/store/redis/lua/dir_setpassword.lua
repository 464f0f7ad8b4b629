-- dir_setpassword.lua: ARGV: address, password hash.
local D = '{dir}'
local id = redis.call('HGET', D .. ':users', ARGV[1])
if not id then fail('ERR_NOTFOUND', 'user ' .. ARGV[1]) end
redis.call('HSET', D .. ':user:' .. id, 'hash', ARGV[2])
return 1
