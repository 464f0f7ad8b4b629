-- subscribe.lua: ARGV: P, name, 1 or 0.
local P, name = ARGV[1], ARGV[2]
local id = redis.call('HGET', P .. ':mailboxes', name)
if not id then fail('ERR_NOTFOUND', 'mailbox ' .. name) end
redis.call('HSET', mbKey(P, id), 'sub', ARGV[3])
touch(P)
return 1
