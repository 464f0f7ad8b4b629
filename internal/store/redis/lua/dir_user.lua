-- dir_user.lua: ARGV: address. Returns {id, address, hash, created, quota}.
local D = '{dir}'
local id = redis.call('HGET', D .. ':users', ARGV[1])
if not id then fail('ERR_NOTFOUND', 'user ' .. ARGV[1]) end
local f = redis.call('HMGET', D .. ':user:' .. id, 'address', 'hash', 'created', 'quota')
if not f[1] then fail('ERR_NOTFOUND', 'user ' .. ARGV[1]) end
return {id, f[1], f[2], f[3], f[4] or '0'}
