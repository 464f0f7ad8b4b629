-- dir_import.lua: add the users and aliases of a directory snapshot that
-- are missing; an entry that conflicts with an existing one (address taken
-- by an alias or another user, user ID taken) is left out. The domain of
-- each entry is added.
-- ARGV: 'u', then id, address, domain, hash, created (unix ns), quota per user; or
--       'a', then source, domain, number of targets, targets... per alias.
local D = '{dir}'
if ARGV[1] == 'u' then
  for i = 2, #ARGV, 6 do
    local id, address, domain = ARGV[i], ARGV[i + 1], ARGV[i + 2]
    if redis.call('SISMEMBER', D .. ':aliases', address) == 0 then
      redis.call('SADD', D .. ':domains', domain)
      if redis.call('HEXISTS', D .. ':users', address) == 0 and redis.call('EXISTS', D .. ':user:' .. id) == 0 then
        redis.call('HSET', D .. ':users', address, id)
        redis.call('HSET', D .. ':user:' .. id, 'address', address, 'hash', ARGV[i + 3], 'created', ARGV[i + 4], 'quota', ARGV[i + 5])
        redis.call('SADD', D .. ':domain:' .. domain, address)
      end
    end
  end
  return 1
end
local i = 2
while i <= #ARGV do
  local source, domain, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  if redis.call('HEXISTS', D .. ':users', source) == 0 then
    redis.call('SADD', D .. ':domains', domain)
    if n > 0 then
      for j = i + 3, i + 2 + n do redis.call('SADD', D .. ':alias:' .. source, ARGV[j]) end
      redis.call('SADD', D .. ':aliases', source)
      redis.call('SADD', D .. ':domain:' .. domain, source)
    end
  end
  i = i + 3 + n
end
return 1
