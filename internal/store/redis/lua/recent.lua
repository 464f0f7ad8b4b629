-- recent.lua: claim the messages not yet seen as \Recent (RFC 3501
-- section 2.3.2): move the 'rec' mark to UIDNEXT-1. A mailbox from before
-- the mark counts what it holds as old. ARGV: P, mailbox id.
-- Returns {first, last}: the claimed UID range, {0, 0} for none.
local P, id = ARGV[1], ARGV[2]
local k = mbKey(P, id)
local st = redis.call('HMGET', k, 'next', 'rec')
if not st[1] then fail('ERR_NOTFOUND', 'mailbox id ' .. id) end
local last = tonumber(st[1]) - 1
local mark = tonumber(st[2] or last)
redis.call('HSET', k, 'rec', last)
if mark >= last then return {0, 0} end
return {mark + 1, last}
