-- rename.lua: rename a mailbox and its children, or move INBOX's messages
-- to a new mailbox (RFC 9051 section 6.3.6).
-- ARGV: P, old, new, fresh id (for INBOX), then parent name, fresh id pairs.
local P, old, new, newID = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local mbs = P .. ':mailboxes'
local id = redis.call('HGET', mbs, old)
if not id then fail('ERR_NOTFOUND', 'mailbox ' .. old) end
if redis.call('HEXISTS', mbs, new) == 1 then fail('ERR_EXISTS', 'mailbox ' .. new) end
local ids = {newID}
for i = 5, #ARGV, 2 do ids[#ids + 1] = ARGV[i + 1] end
checkFreshIDs(P, ids)

local function parents()
  for i = 5, #ARGV, 2 do createMailbox(P, ARGV[i], ARGV[i + 1], '', 0) end
end

if old == 'INBOX' then
  -- The messages keep their UIDs (the new mailbox has a new UIDVALIDITY)
  -- and INBOX keeps its UIDNEXT, so no UID of either is ever reused.
  parents()
  createMailbox(P, new, newID, '', 0)
  -- The messages keep their EMAILIDs (derived from INBOX's id: the new
  -- mailbox's 'eb' and 'es' say so) and their \Recent state. INBOX
  -- keeps its tombstones and remembers none for them: its 'xf' floor
  -- moves past them instead.
  local src, dst = mbKey(P, id), mbKey(P, newID)
  local st = redis.call('HMGET', src, 'next', 'hms', 'n', 'unseen', 'size', 'rec', 'eb', 'es')
  local del, kw = ensureMeta(src)
  local ms = tonumber(st[2]) + 1
  if st[7] and tonumber(st[8] or '0') > 1 then
    -- INBOX's own lower UIDs derive from an older base: give them theirs.
    for _, u in ipairs(redis.call('ZRANGEBYSCORE', src .. ':u', 0, '(' .. st[8])) do
      local hms, size, blob, flags, date, rest = parseHead(redis.call('HGET', src .. ':h', u))
      if not string.match(rest, '^\n%-?%d+\n') then
        local save = string.match(rest, '^\n(%-?%d+)$') or '0'
        redis.call('HSET', src .. ':h', u, makeHead(hms, size, blob, flags, date,
          '\n' .. save .. '\n' .. emailIDOf(id, st[7], st[8], u, rest)))
      end
    end
  end
  for _, suffix in ipairs({':u', ':m', ':h', ':b'}) do
    if redis.call('EXISTS', src .. suffix) == 1 then redis.call('RENAME', src .. suffix, dst .. suffix) end
  end
  redis.call('HSET', dst, 'next', st[1], 'hms', ms, 'n', st[3], 'unseen', st[4], 'size', st[5],
    'del', del, 'kw', kw, 'rec', st[6] or tonumber(st[1]) - 1, 'eb', id, 'es', st[1], 'xf', ms)
  redis.call('HSET', src, 'hms', ms, 'n', 0, 'unseen', 0, 'size', 0, 'del', 0, 'xf', ms)
  touch(P)
  return 1
end

local names = {old}
local pre = old .. '/'
for _, n in ipairs(redis.call('HKEYS', mbs)) do
  if string.sub(n, 1, #pre) == pre then names[#names + 1] = n end
end
for i = 2, #names do
  local target = new .. string.sub(names[i], #old + 1)
  if redis.call('HEXISTS', mbs, target) == 1 then fail('ERR_EXISTS', 'mailbox ' .. target) end
end
for _, n in ipairs(names) do
  local target = new .. string.sub(n, #old + 1)
  local cid = redis.call('HGET', mbs, n)
  redis.call('HDEL', mbs, n)
  redis.call('HSET', mbs, target, cid)
  redis.call('HSET', mbKey(P, cid), 'name', target)
  if redis.call('SREM', subsKey(P), target) == 1 then redis.call('HSET', mbKey(P, cid), 'sub', 1) end
end
-- The subscriptions below old whose mailboxes are gone move too.
for _, n in ipairs(redis.call('SMEMBERS', subsKey(P))) do
  if string.sub(n, 1, #pre) == pre then
    local target = new .. string.sub(n, #old + 1)
    redis.call('SREM', subsKey(P), n)
    local cid = redis.call('HGET', mbs, target)
    if cid then redis.call('HSET', mbKey(P, cid), 'sub', 1) else redis.call('SADD', subsKey(P), target) end
  end
end
parents()
touch(P)
return 1
