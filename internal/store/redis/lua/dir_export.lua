-- dir_export.lua: the whole directory in one consistent read.
-- Returns {domains, {id, address, hash, created, quota, ...}, {source, {targets}, ...}}.
local D = '{dir}'
local users = {}
local all = redis.call('HGETALL', D .. ':users')
for i = 1, #all, 2 do
  local f = redis.call('HMGET', D .. ':user:' .. all[i + 1], 'address', 'hash', 'created', 'quota')
  if f[1] then
    users[#users + 1] = all[i + 1]
    users[#users + 1] = f[1]
    users[#users + 1] = f[2]
    users[#users + 1] = f[3]
    users[#users + 1] = f[4] or '0'
  end
end
local aliases = {}
for _, s in ipairs(redis.call('SMEMBERS', D .. ':aliases')) do
  aliases[#aliases + 1] = s
  aliases[#aliases + 1] = redis.call('SMEMBERS', D .. ':alias:' .. s)
end
return {redis.call('SMEMBERS', D .. ':domains'), users, aliases}
