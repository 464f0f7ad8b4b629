-- dir_users.lua: returns {id, address, hash, created, quota, ...} of every user.
local D = '{dir}'
local out = {}
local all = redis.call('HGETALL', D .. ':users')
for i = 1, #all, 2 do
  local f = redis.call('HMGET', D .. ':user:' .. all[i + 1], 'address', 'hash', 'created', 'quota')
  if f[1] then
    out[#out + 1] = all[i + 1]
    out[#out + 1] = f[1]
    out[#out + 1] = f[2]
    out[#out + 1] = f[3]
    out[#out + 1] = f[4] or '0'
  end
end
return out
