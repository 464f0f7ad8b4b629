-- expunge.lua: remove the messages flagged \Deleted, only those among the
-- given UIDs unless all is 1. ARGV: P, mailbox id, all (1/0), UIDs.
-- Returns {{expunged UIDs, ascending}, {their blob keys}}.
local P, id = ARGV[1], ARGV[2]
local k = mbKey(P, id)
local st = redis.call('HMGET', k, 'hms', 'n', 'unseen', 'size')
if not st[1] then fail('ERR_NOTFOUND', 'mailbox id ' .. id) end
local victims = {}
local function consider(uid, h)
  if not h then return end
  local _, size, blob, flags = parseHead(h)
  if hasFlag(flags, '\\Deleted') then
    victims[#victims + 1] = {tonumber(uid), size, blob, hasFlag(flags, '\\Seen')}
  end
end
if ARGV[3] == '1' then
  local all = redis.call('HGETALL', k .. ':h')
  for i = 1, #all, 2 do
    if string.find(all[i + 1], '\\Deleted', 1, true) then consider(all[i], all[i + 1]) end
  end
  table.sort(victims, function(a, b) return a[1] < b[1] end)
else
  for i = 4, #ARGV do consider(ARGV[i], redis.call('HGET', k .. ':h', ARGV[i])) end
end
local uids, blobs = {}, {}
if #victims == 0 then return {uids, blobs} end
local del = ensureMeta(k)
local n, unseen, size = tonumber(st[2]), tonumber(st[3]), tonumber(st[4])
for _, v in ipairs(victims) do
  redis.call('ZREM', k .. ':u', v[1])
  redis.call('ZREM', k .. ':m', v[1])
  redis.call('HDEL', k .. ':h', v[1])
  redis.call('HDEL', k .. ':b', v[1])
  n, size = n - 1, size - v[2]
  if not v[4] then unseen = unseen - 1 end
  uids[#uids + 1] = v[1]
  blobs[#blobs + 1] = v[3]
end
local ms = tonumber(st[1]) + 1
redis.call('HSET', k, 'hms', ms, 'n', n, 'unseen', unseen, 'size', string.format('%d', size), 'del', del - #victims)
bury(k, ms, uids)
touch(P)
return {uids, blobs}
