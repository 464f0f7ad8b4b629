-- insert.lua: add messages with the next UIDs, all or none; record the
-- idempotency key in the same step (invariant 3).
-- ARGV: P, mailbox id, idempotency key or '' (for one message only), n,
-- then for each message: size, blob key, flags, seen (1/0), body, internal
-- date (unix ns).
-- Returns {dup (1/0), uid, ...}: with dup 1, the earlier UID.
local P, id, idem, n = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
if idem ~= '' then
  local v = redis.call('HGET', P .. ':idem', idem)
  if v then return {1, tonumber(string.match(v, ':(%d+)$'))} end
end
local k = mbKey(P, id)
local st = redis.call('HMGET', k, 'next', 'hms', 'n', 'unseen', 'size')
if not st[1] then fail('ERR_NOTFOUND', 'mailbox id ' .. id) end
local del, kw = ensureMeta(k)
local newKw = kw
for i = 0, n - 1 do newKw = addKeywords(newKw, split(ARGV[5 + i * 6 + 2], ' ')) end
local first, ms = tonumber(st[1]), tonumber(st[2]) + 1
local count, unseen, size = tonumber(st[3]), tonumber(st[4]), tonumber(st[5])
local out = {0}
for i = 0, n - 1 do
  local a, uid = 5 + i * 6, first + i
  local sz, flags, date = tonumber(ARGV[a]), ARGV[a + 2], ARGV[a + 5]
  size = size + sz
  if ARGV[a + 3] ~= '1' then unseen = unseen + 1 end
  if hasFlag(flags, '\\Deleted') then del = del + 1 end
  redis.call('ZADD', k .. ':u', uid, uid)
  redis.call('ZADD', k .. ':m', ms, uid)
  redis.call('HSET', k .. ':h', uid, makeHead(ms, sz, ARGV[a + 1], flags, date, savedNow(date, '')))
  redis.call('HSET', k .. ':b', uid, ARGV[a + 4])
  out[#out + 1] = uid
end
redis.call('HSET', k, 'next', first + n, 'hms', ms, 'n', count + n, 'unseen', unseen,
  'size', string.format('%d', size), 'del', del, 'kw', newKw)
if idem ~= '' then redis.call('HSET', P .. ':idem', idem, id .. ':' .. first) end
touch(P)
return out
