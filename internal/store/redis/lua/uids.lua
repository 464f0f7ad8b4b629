-- uids.lua: ARGV: P, mailbox id. Returns every UID, ascending.
local k = mbKey(ARGV[1], ARGV[2])
if redis.call('EXISTS', k) == 0 then fail('ERR_NOTFOUND', 'mailbox id ' .. ARGV[2]) end
return redis.call('ZRANGE', k .. ':u', 0, -1)
