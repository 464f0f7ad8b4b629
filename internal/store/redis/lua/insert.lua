-- insert.lua: add a message with the next UID; record the idempotency key
-- in the same step (invariant 3).
-- ARGV: P, mailbox id, idempotency key or '', size, blob key, flags, seen (1/0), body,
-- internal date (unix ns).
-- Returns {dup (1/0), uid}.
local P, id, idem = ARGV[1], ARGV[2], ARGV[3]
if idem ~= '' then
  local v = redis.call('HGET', P .. ':idem', idem)
  if v then return {1, tonumber(string.match(v, ':(%d+)$'))} end
end
local k = mbKey(P, id)
local st = redis.call('HMGET', k, 'next', 'hms', 'n', 'unseen', 'size')
if not st[1] then fail('ERR_NOTFOUND', 'mailbox id ' .. id) end
local uid, ms, size = tonumber(st[1]), tonumber(st[2]) + 1, tonumber(ARGV[4])
local unseen = tonumber(st[4])
if ARGV[7] ~= '1' then unseen = unseen + 1 end
redis.call('HSET', k, 'next', uid + 1, 'hms', ms, 'n', tonumber(st[3]) + 1, 'unseen', unseen,
  'size', string.format('%d', tonumber(st[5]) + size))
redis.call('ZADD', k .. ':u', uid, uid)
redis.call('ZADD', k .. ':m', ms, uid)
redis.call('HSET', k .. ':h', uid, makeHead(ms, size, ARGV[5], ARGV[6], ARGV[9]))
redis.call('HSET', k .. ':b', uid, ARGV[8])
if idem ~= '' then redis.call('HSET', P .. ':idem', idem, id .. ':' .. uid) end
touch(P)
return {0, uid}
