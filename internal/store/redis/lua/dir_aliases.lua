-- dir_aliases.lua: returns {source, {targets}, ...} of every alias.
local D = '{dir}'
local out = {}
for _, s in ipairs(redis.call('SMEMBERS', D .. ':aliases')) do
  out[#out + 1] = s
  out[#out + 1] = redis.call('SMEMBERS', D .. ':alias:' .. s)
end
return out
