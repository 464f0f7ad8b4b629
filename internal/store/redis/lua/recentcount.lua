-- recentcount.lua: count the messages above the \Recent mark (see
-- recent.lua) without moving it, for STATUS RECENT. A mailbox from before
-- the mark holds no recent message. ARGV: P, mailbox id.
local P, id = ARGV[1], ARGV[2]
local k = mbKey(P, id)
local st = redis.call('HMGET', k, 'next', 'rec')
if not st[1] then fail('ERR_NOTFOUND', 'mailbox id ' .. id) end
if not st[2] then return 0 end
return redis.call('ZCOUNT', k .. ':u', '(' .. st[2], '+inf')
