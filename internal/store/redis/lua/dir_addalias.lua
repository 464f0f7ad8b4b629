-- dir_addalias.lua: ARGV: source, domain, targets...
local D = '{dir}'
local source, domain = ARGV[1], ARGV[2]
if redis.call('SISMEMBER', D .. ':domains', domain) == 0 then fail('ERR_NOTFOUND', 'domain ' .. domain) end
if redis.call('HEXISTS', D .. ':users', source) == 1 then fail('ERR_EXISTS', source .. ' is a user') end
for i = 3, #ARGV do redis.call('SADD', D .. ':alias:' .. source, ARGV[i]) end
redis.call('SADD', D .. ':aliases', source)
redis.call('SADD', D .. ':domain:' .. domain, source)
return 1
