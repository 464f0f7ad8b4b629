-- dir_adduser.lua: ARGV: address, domain, id, password hash, created (unix ns).
local D = '{dir}'
local address, domain, id = ARGV[1], ARGV[2], ARGV[3]
if redis.call('SISMEMBER', D .. ':domains', domain) == 0 then fail('ERR_NOTFOUND', 'domain ' .. domain) end
if redis.call('SISMEMBER', D .. ':aliases', address) == 1 then fail('ERR_EXISTS', address .. ' is an alias') end
if redis.call('HSETNX', D .. ':users', address, id) == 0 then fail('ERR_EXISTS', 'user ' .. address) end
redis.call('HSET', D .. ':user:' .. id, 'address', address, 'hash', ARGV[4], 'created', ARGV[5])
redis.call('SADD', D .. ':domain:' .. domain, address)
return 1
