-- dead.lua: ARGV: Q, limit (0: all). Returns {id, envelope, attempts,
-- last error, not-before, state, ...} of dead jobs, oldest first.
local Q, limit = ARGV[1], tonumber(ARGV[2])
local entries
if limit > 0 then
  entries = redis.call('XRANGE', Q .. ':dead', '-', '+', 'COUNT', limit)
else
  entries = redis.call('XRANGE', Q .. ':dead', '-', '+')
end
local out = {}
for _, e in ipairs(entries) do
  local id = e[2][2]
  local f = redis.call('HMGET', Q .. ':job:' .. id, 'p', 'a', 'e', 'nb', 'st')
  if f[1] then
    out[#out + 1] = id
    out[#out + 1] = f[1]
    out[#out + 1] = tonumber(f[2])
    out[#out + 1] = f[3] or ''
    out[#out + 1] = f[4] or '0'
    out[#out + 1] = f[5] or ''
  end
end
return out
