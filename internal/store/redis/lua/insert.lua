-- insert.lua: add messages with the next UIDs, all or none; record their
-- idempotency keys in the same step (invariant 3).
-- ARGV: P, mailbox id, dup mode, n, then for each message: size, blob key,
-- flags, seen (1/0), body, internal date (unix ns), idempotency key or ''.
-- A key used before: with dup mode '1' (InsertMessage, one message) the
-- reply is {1, earlier UID}; else the script fails with ERR_EXISTS.
-- Returns {dup (1/0), uid, ...}.
local P, id, dupMode, n = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local W = 7 -- arguments per message
for i = 0, n - 1 do
  local idem = ARGV[5 + i * W + 6]
  if idem ~= '' then
    local v = redis.call('HGET', P .. ':idem', idem)
    if v then
      if dupMode == '1' then return {1, tonumber(string.match(v, ':(%d+)$'))} end
      fail('ERR_EXISTS', 'idempotency key ' .. idem)
    end
  end
end
local k = mbKey(P, id)
local st = redis.call('HMGET', k, 'next', 'hms', 'n', 'unseen', 'size')
if not st[1] then fail('ERR_NOTFOUND', 'mailbox id ' .. id) end
local del, kw = ensureMeta(k)
local newKw = kw
for i = 0, n - 1 do newKw = addKeywords(newKw, split(ARGV[5 + i * W + 2], ' ')) end
local first, ms = tonumber(st[1]), tonumber(st[2]) + 1
local count, unseen, size = tonumber(st[3]), tonumber(st[4]), tonumber(st[5])
local out = {0}
for i = 0, n - 1 do
  local a, uid = 5 + i * W, first + i
  local sz, flags, date = tonumber(ARGV[a]), ARGV[a + 2], ARGV[a + 5]
  size = size + sz
  if ARGV[a + 3] ~= '1' then unseen = unseen + 1 end
  if hasFlag(flags, '\\Deleted') then del = del + 1 end
  redis.call('ZADD', k .. ':u', uid, uid)
  redis.call('ZADD', k .. ':m', ms, uid)
  redis.call('HSET', k .. ':h', uid, makeHead(ms, sz, ARGV[a + 1], flags, date, savedNow(date, '')))
  redis.call('HSET', k .. ':b', uid, ARGV[a + 4])
  if ARGV[a + 6] ~= '' then redis.call('HSET', P .. ':idem', ARGV[a + 6], id .. ':' .. uid) end
  out[#out + 1] = uid
end
redis.call('HSET', k, 'next', first + n, 'hms', ms, 'n', count + n, 'unseen', unseen,
  'size', string.format('%d', size), 'del', del, 'kw', newKw)
touch(P)
return out
