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

-- parseHead splits a message head "modseq\nsize\nblobkey\nflags\ndate".
-- The date (unix ns) stays text: Lua numbers are doubles.
local function parseHead(h)
  local ms, size, blob, flags, date = string.match(h, '^(%d+)\n(%d+)\n([^\n]*)\n([^\n]*)\n(%-?%d+)$')
  return tonumber(ms), tonumber(size), blob, flags, date
end

local function makeHead(ms, size, blob, flags, date)
  return string.format('%d', ms) .. '\n' .. string.format('%d', size) .. '\n' .. blob .. '\n' .. flags .. '\n' .. date
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

-- createMailbox creates name with the fresh id unless name exists; it
-- reports whether it did.
local function createMailbox(P, name, id, special, sub)
  if redis.call('HEXISTS', P .. ':mailboxes', name) == 1 then return false end
  local uv = newUIDValidity(P)
  redis.call('HSET', P .. ':mailboxes', name, id)
  redis.call('HSET', mbKey(P, id), 'name', name, 'special', special, 'sub', sub,
    'uv', string.format('%d', uv), 'next', 1, 'hms', 1, 'n', 0, 'unseen', 0, 'size', 0)
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
  redis.call('DEL', k, k .. ':u', k .. ':m', k .. ':h', k .. ':b')
end
