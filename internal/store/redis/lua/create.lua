-- create.lua: create a mailbox and its missing parents (RFC 9051 section 6.3.4).
-- ARGV: P, name, special-use, fresh id, then parent name, fresh id pairs.
local P, name, special, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('HEXISTS', P .. ':mailboxes', name) == 1 then fail('ERR_EXISTS', 'mailbox ' .. name) end
local ids = {id}
for i = 5, #ARGV, 2 do ids[#ids + 1] = ARGV[i + 1] end
checkFreshIDs(P, ids)
for i = 5, #ARGV, 2 do createMailbox(P, ARGV[i], ARGV[i + 1], '', 0) end
createMailbox(P, name, id, special, 0)
touch(P)
return 1
