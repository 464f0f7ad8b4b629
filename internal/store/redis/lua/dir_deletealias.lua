-- dir_deletealias.lua: ARGV: source, domain, targets (none: the whole alias).
local D = '{dir}'
local source, domain = ARGV[1], ARGV[2]
local k = D .. ':alias:' .. source
if redis.call('EXISTS', k) == 0 then fail('ERR_NOTFOUND', 'alias ' .. source) end
for i = 3, #ARGV do redis.call('SREM', k, ARGV[i]) end
if #ARGV == 2 or redis.call('EXISTS', k) == 0 then
  redis.call('DEL', k)
  redis.call('SREM', D .. ':aliases', source)
  redis.call('SREM', D .. ':domain:' .. domain, source)
end
return 1
