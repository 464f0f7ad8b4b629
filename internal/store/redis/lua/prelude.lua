-- prelude.lua: helpers shared by every script (prepended to each).
-- A script checks every precondition before its first write: Redis does
-- not roll a script back when it fails half-way.

local function fail(code, msg)
  error({err = code .. ' ' .. (msg or '')})
end

-- nowMs returns the Redis server's clock in unix milliseconds: the one
-- clock every process shares.
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- touch counts a change of the user with prefix P and publishes it, so that
-- Watch in every process wakes up.
local function touch(P)
  local n = redis.call('HINCRBY', P .. ':meta', 'changes', 1)
  redis.call('PUBLISH', P .. ':changes', n)
end

local function split(s, sep)
  local out = {}
  if s == nil or s == '' then return out end
  local i = 1
  while true do
    local j = string.find(s, sep, i, true)
    if not j then out[#out + 1] = string.sub(s, i); return out end
    out[#out + 1] = string.sub(s, i, j - 1)
    i = j + #sep
  end
end

-- parseHead splits a message head "modseq\nsize\nblobkey\nflags\ndate"
-- and what follows it, rest: "\n<save>" or "\n<save>\n<email id>", or ""
-- in a head from before save dates (see keys.go). The date (unix ns) and
-- rest stay text: Lua numbers are doubles.
local function parseHead(h)
  local ms, size, blob, flags, date, rest = string.match(h, '^(%d+)\n(%d+)\n([^\n]*)\n([^\n]*)\n(%-?%d+)(.*)$')
  return tonumber(ms), tonumber(size), blob, flags, date, rest
end

local function makeHead(ms, size, blob, flags, date, rest)
  return string.format('%d', ms) .. '\n' .. string.format('%d', size) .. '\n' .. blob .. '\n' .. flags .. '\n' .. date .. rest
end

-- savedNow returns the rest of a head saved now with an internal date
-- (unix ns, text) and an email id ('': derived, see emailIDOf): the save
-- date is kept in seconds after the internal date's second, a digit or
-- two for a delivery, and nothing at all for a delivery within the
-- second it was received (a head without it was saved at its date).
local function savedNow(date, eid)
  local secs
  if #date > 9 and string.sub(date, 1, 1) ~= '-' then
    secs = tonumber(string.sub(date, 1, #date - 9))
  else
    secs = math.floor(tonumber(date) / 1e9)
  end
  local save = tonumber(redis.call('TIME')[1]) - secs
  if save == 0 and eid == '' then return '' end
  local r = '\n' .. string.format('%d', save)
  if eid ~= '' then r = r .. '\n' .. eid end
  return r
end

-- emailIDOf returns the EMAILID (store.EmailIDOf) of message uid of
-- mailbox id whose head ends in rest: its own, or derived from the
-- mailbox's id, or below the mailbox's 'es' field from its 'eb' field.
local function emailIDOf(id, eb, es, uid, rest)
  local own = string.match(rest, '^\n%-?%d+\n(.+)$')
  if own then return own end
  if eb and tonumber(uid) < tonumber(es or '0') then return 'M' .. eb .. '-' .. uid end
  return 'M' .. id .. '-' .. uid
end

local function hasFlag(flags, f)
  for _, x in ipairs(split(flags, ' ')) do
    if x == f then return true end
  end
  return false
end

local function mbKey(P, id) return P .. ':mb:' .. id end

-- newUIDValidity returns a UIDVALIDITY larger than every earlier one of the
-- user, close to the current time in seconds, so that a mailbox re-created
-- with an old name never repeats an old value (RFC 9051 section 2.3.1.1).
local function newUIDValidity(P)
  local now = tonumber(redis.call('TIME')[1])
  local last = tonumber(redis.call('HGET', P .. ':meta', 'uidvalidity') or '0')
  local v = math.max(last + 1, now)
  redis.call('HSET', P .. ':meta', 'uidvalidity', string.format('%d', v))
  return v
end

-- subsKey holds the subscribed names that are not mailboxes (see keys.go).
local function subsKey(P) return P .. ':subs' end

-- createMailbox creates name with the fresh id unless name exists; it
-- reports whether it did. A subscription that outlived an earlier
-- mailbox of that name subscribes it.
local function createMailbox(P, name, id, special, sub)
  if redis.call('HEXISTS', P .. ':mailboxes', name) == 1 then return false end
  if redis.call('SREM', subsKey(P), name) == 1 then sub = 1 end
  local uv = newUIDValidity(P)
  redis.call('HSET', P .. ':mailboxes', name, id)
  redis.call('HSET', mbKey(P, id), 'name', name, 'special', special, 'sub', sub,
    'uv', string.format('%d', uv), 'next', 1, 'hms', 1, 'n', 0, 'unseen', 0, 'size', 0,
    'del', 0, 'kw', '', 'rec', 0, 'xf', 0)
  return true
end

-- checkFreshIDs fails (before any write) if a new mailbox id is taken.
local function checkFreshIDs(P, ids)
  for _, id in ipairs(ids) do
    if redis.call('EXISTS', mbKey(P, id)) == 1 then fail('ERR_RETRY', 'mailbox id collision') end
  end
end

-- blobsOf returns the blob key of every message of mailbox id.
local function blobsOf(P, id, out)
  for _, h in ipairs(redis.call('HVALS', mbKey(P, id) .. ':h')) do
    local _, _, blob = parseHead(h)
    out[#out + 1] = blob
  end
end

local function dropMailbox(P, id)
  local k = mbKey(P, id)
  redis.call('DEL', k, k .. ':u', k .. ':m', k .. ':h', k .. ':b', k .. ':x')
end

-- MAX_KEYWORDS is store.MaxKeywords, MAX_TOMBSTONES store.MaxTombstones.
local MAX_KEYWORDS = 256
local MAX_TOMBSTONES = 10000

-- ensureMeta returns the 'del' (messages with \Deleted) and 'kw'
-- (keywords) fields of the existing mailbox k, first computing them from
-- the heads for a mailbox from before they were kept.
local function ensureMeta(k)
  local v = redis.call('HMGET', k, 'del', 'kw')
  if v[1] and v[2] then return tonumber(v[1]), v[2] end
  local del, kws, seen = 0, {}, {}
  for _, h in ipairs(redis.call('HVALS', k .. ':h')) do
    local _, _, _, flags = parseHead(h)
    for _, f in ipairs(split(flags, ' ')) do
      if f == '\\Deleted' then
        del = del + 1
      elseif string.sub(f, 1, 1) ~= '\\' and not seen[string.lower(f)] then
        seen[string.lower(f)] = true
        kws[#kws + 1] = f
      end
    end
  end
  local kw = table.concat(kws, ' ')
  redis.call('HSET', k, 'del', del, 'kw', kw)
  return del, kw
end

-- addKeywords returns the keyword list kw (space-separated) with the
-- keywords of flags (a list) it lacks, compared case-insensitively;
-- past MAX_KEYWORDS it fails with ERR_LIMIT (call it before any write).
local function addKeywords(kw, flags)
  local list, seen = split(kw, ' '), {}
  for _, f in ipairs(list) do seen[string.lower(f)] = true end
  for _, f in ipairs(flags) do
    local l = string.lower(f)
    if f ~= '' and string.sub(f, 1, 1) ~= '\\' and not seen[l] then
      if #list >= MAX_KEYWORDS then fail('ERR_LIMIT', 'more than ' .. MAX_KEYWORDS .. ' keywords in a mailbox') end
      seen[l] = true
      list[#list + 1] = f
    end
  end
  return table.concat(list, ' ')
end

-- TOMB is the size of a tombstone in k:x: UID (4 bytes) and the
-- mod-sequence of its expunge (8 bytes), big-endian, in expunge order.
local TOMB = 12

-- bury remembers uids as expunged from mailbox k with mod-sequence ms,
-- above every earlier one, and forgets the oldest past MAX_TOMBSTONES,
-- moving the 'xf' floor to the newest forgotten. A mailbox from before
-- tombstones ('xf' missing) starts remembering at ms.
local function bury(k, ms, uids)
  if redis.call('HEXISTS', k, 'xf') == 0 then redis.call('HSET', k, 'xf', string.format('%d', ms - 1)) end
  local parts = {}
  for i, u in ipairs(uids) do parts[i] = struct.pack('>I4I8', u, ms) end
  local n = redis.call('APPEND', k .. ':x', table.concat(parts))
  local over = n - MAX_TOMBSTONES * TOMB
  if over > 0 then
    local _, floor = struct.unpack('>I4I8', redis.call('GETRANGE', k .. ':x', over - TOMB, over - 1))
    redis.call('SET', k .. ':x', redis.call('GETRANGE', k .. ':x', over, -1))
    redis.call('HSET', k, 'xf', string.format('%d', floor))
  end
end
