-- setflags.lua: change the flags of some UIDs. HIGHESTMODSEQ moves only if
-- something changed (RFC 7162 section 3.1.3).
-- ARGV: P, mailbox id, op (0 replace, 1 add, 2 remove), flags (normalized,
-- space-separated), unchangedSince ('' for none: STORE (UNCHANGEDSINCE n),
-- RFC 7162 section 3.1.3, leaves alone the messages with a greater
-- modseq), then the UIDs (sorted, distinct).
-- Returns {modseq, failed, uid, flags, uid, flags, ...}: failed lists the
-- UIDs left alone, then come the changed messages.
local P, id, op = ARGV[1], ARGV[2], tonumber(ARGV[3])
local since = tonumber(ARGV[5])
local k = mbKey(P, id)
local st = redis.call('HMGET', k, 'hms', 'unseen')
if not st[1] then fail('ERR_NOTFOUND', 'mailbox id ' .. id) end
local ms = tonumber(st[1]) + 1
local given = split(ARGV[4], ' ')

-- lessFold orders flags case-insensitively by bytes, as Go's
-- strings.Compare of strings.ToLower does for ASCII (flags are atoms).
local function lessFold(a, b)
  a, b = string.lower(a), string.lower(b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

local function apply(cur)
  if op == 0 then return given end
  if op == 1 then
    local seen, out = {}, {}
    for _, list in ipairs({cur, given}) do
      for _, f in ipairs(list) do
        local l = string.lower(f)
        if not seen[l] then seen[l] = true; out[#out + 1] = f end
      end
    end
    table.sort(out, lessFold)
    return out
  end
  local drop, out = {}, {}
  for _, f in ipairs(given) do drop[string.lower(f)] = true end
  for _, f in ipairs(cur) do
    if not drop[string.lower(f)] then out[#out + 1] = f end
  end
  return out
end

-- First what changes, then the keyword bound, then the writes.
local changes, failed = {}, {}
local unseen, del = 0, 0
for i = 6, #ARGV do
  local uid = ARGV[i]
  local h = redis.call('HGET', k .. ':h', uid)
  local cur, size, blob, flags, date, rest
  if h then cur, size, blob, flags, date, rest = parseHead(h) end
  if h and since and cur > since then
    failed[#failed + 1] = tonumber(uid)
  elseif h then
    local next = table.concat(apply(split(flags, ' ')), ' ')
    if string.lower(next) ~= string.lower(flags) then
      local was, is = hasFlag(flags, '\\Seen'), hasFlag(next, '\\Seen')
      if is and not was then unseen = unseen - 1 end
      if was and not is then unseen = unseen + 1 end
      was, is = hasFlag(flags, '\\Deleted'), hasFlag(next, '\\Deleted')
      if is and not was then del = del + 1 end
      if was and not is then del = del - 1 end
      changes[#changes + 1] = {uid, makeHead(ms, size, blob, next, date, rest), next}
    end
  end
end
local out = {ms, failed}
if #changes == 0 then return out end
local curDel, kw = ensureMeta(k)
if op ~= 2 then kw = addKeywords(kw, given) end
for _, c in ipairs(changes) do
  redis.call('HSET', k .. ':h', c[1], c[2])
  redis.call('ZADD', k .. ':m', ms, c[1])
  out[#out + 1] = c[1]
  out[#out + 1] = c[3]
end
redis.call('HSET', k, 'hms', ms, 'unseen', tonumber(st[2]) + unseen, 'del', curDel + del, 'kw', kw)
touch(P)
return out
