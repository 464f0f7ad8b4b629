-- mailboxes.lua: read mailboxes. ARGV: P, and a name to read only that one.
-- Returns id and the fields below for each mailbox; a mailbox from before
-- 'del' and 'kw' gets them (ensureMeta).
local P, name = ARGV[1], ARGV[2]
local fields = {'name', 'special', 'sub', 'uv', 'next', 'hms', 'n', 'unseen', 'size', 'del', 'kw'}
local out = {}
local function row(id)
  local v = redis.call('HMGET', mbKey(P, id), unpack(fields))
  if not v[1] then return end
  if not v[10] or not v[11] then
    local del, kw = ensureMeta(mbKey(P, id))
    v[10], v[11] = string.format('%d', del), kw
  end
  out[#out + 1] = id
  for i = 1, #fields do out[#out + 1] = v[i] end
end
if name then
  local id = redis.call('HGET', P .. ':mailboxes', name)
  if not id then fail('ERR_NOTFOUND', 'mailbox ' .. name) end
  row(id)
  return out
end
local all = redis.call('HGETALL', P .. ':mailboxes')
for i = 1, #all, 2 do row(all[i + 1]) end
return out
