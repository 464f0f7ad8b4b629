-- transfer.lua: copy messages to another mailbox, keeping flags and
-- internal date, and with move=1 remove them from the source in the same step.
-- ARGV: P, source id, destination id, move (1/0), n, then n UIDs (sorted,
-- distinct), then for a copy n expected blob keys ('' for a UID that did
-- not exist): the caller counted references for those before the script
-- ran, so anything else means the mailbox changed in between (ERR_RETRY).
-- Returns {{source UIDs}, {new UIDs}, {blob keys}}.
local P, srcID, dstID, move, n = ARGV[1], ARGV[2], ARGV[3], ARGV[4] == '1', tonumber(ARGV[5])
local src, dst = mbKey(P, srcID), mbKey(P, dstID)
local sst = redis.call('HMGET', src, 'hms', 'eb', 'es')
if not sst[1] then fail('ERR_NOTFOUND', 'mailbox id ' .. srcID) end
local msgs = {}
for i = 1, n do
  local uid = ARGV[5 + i]
  local h = redis.call('HGET', src .. ':h', uid)
  if not move then
    local blob = ''
    if h then blob = select(3, parseHead(h)) end
    if blob ~= ARGV[5 + n + i] then fail('ERR_RETRY', 'source changed') end
  end
  if h then msgs[#msgs + 1] = {uid, h} end
end
local dstHms = redis.call('HGET', dst, 'hms')
if not dstHms then fail('ERR_NOTFOUND', 'mailbox id ' .. dstID) end
local srcUIDs, dstUIDs, blobs = {}, {}, {}
if #msgs == 0 then return {srcUIDs, dstUIDs, blobs} end

-- The keyword bound before any write; the copies keep their EMAILIDs
-- and are saved now (RFC 8514).
ensureMeta(src)
local _, kw = ensureMeta(dst)
for _, m in ipairs(msgs) do kw = addKeywords(kw, split(select(4, parseHead(m[2])), ' ')) end
local ms = tonumber(dstHms) + 1
local next = tonumber(redis.call('HGET', dst, 'next'))
local size, unseen, del = 0, 0, 0
for i, m in ipairs(msgs) do
  local uid = next + i - 1
  local _, sz, blob, flags, date, rest = parseHead(m[2])
  local eid = emailIDOf(srcID, sst[2], sst[3], m[1], rest)
  redis.call('ZADD', dst .. ':u', uid, uid)
  redis.call('ZADD', dst .. ':m', ms, uid)
  redis.call('HSET', dst .. ':h', uid, makeHead(ms, sz, blob, flags, date, savedNow(date, eid)))
  redis.call('HSET', dst .. ':b', uid, redis.call('HGET', src .. ':b', m[1]))
  size = size + sz
  if not hasFlag(flags, '\\Seen') then unseen = unseen + 1 end
  if hasFlag(flags, '\\Deleted') then del = del + 1 end
  srcUIDs[#srcUIDs + 1] = tonumber(m[1])
  dstUIDs[#dstUIDs + 1] = uid
  blobs[#blobs + 1] = blob
end
redis.call('HSET', dst, 'next', next + #msgs, 'hms', ms, 'kw', kw)
redis.call('HINCRBY', dst, 'n', #msgs)
redis.call('HINCRBY', dst, 'unseen', unseen)
redis.call('HINCRBY', dst, 'del', del)
redis.call('HINCRBY', dst, 'size', size)
if move then
  local srcMs = tonumber(sst[1]) + 1
  if srcID == dstID then srcMs = ms + 1 end
  for _, m in ipairs(msgs) do
    redis.call('ZREM', src .. ':u', m[1])
    redis.call('ZREM', src .. ':m', m[1])
    redis.call('HDEL', src .. ':h', m[1])
    redis.call('HDEL', src .. ':b', m[1])
  end
  redis.call('HSET', src, 'hms', srcMs)
  redis.call('HINCRBY', src, 'n', -#msgs)
  redis.call('HINCRBY', src, 'unseen', 0 - unseen)
  redis.call('HINCRBY', src, 'del', 0 - del) -- not -del: -0 is no integer to Redis
  redis.call('HINCRBY', src, 'size', 0 - size)
  bury(src, srcMs, srcUIDs)
end
touch(P)
return {srcUIDs, dstUIDs, blobs}
