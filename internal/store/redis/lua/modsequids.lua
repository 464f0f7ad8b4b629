-- modsequids.lua: the UIDs of a mailbox with a mod-sequence of at least
-- n (SEARCH MODSEQ, RFC 7162 section 3.1.5), from k:m alone, unsorted.
-- ARGV: P, mailbox id, n.
local k = mbKey(ARGV[1], ARGV[2])
if redis.call('EXISTS', k) == 0 then fail('ERR_NOTFOUND', 'mailbox id ' .. ARGV[2]) end
return redis.call('ZRANGEBYSCORE', k .. ':m', ARGV[3], '+inf')
