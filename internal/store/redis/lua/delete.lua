-- delete.lua: delete a mailbox and its messages; its children stay.
-- ARGV: P, name. Returns the blob keys of the deleted messages.
local P, name = ARGV[1], ARGV[2]
local id = redis.call('HGET', P .. ':mailboxes', name)
if not id then fail('ERR_NOTFOUND', 'mailbox ' .. name) end
local blobs = {}
blobsOf(P, id, blobs)
-- The subscription outlives the mailbox (RFC 9051 section 6.3.9).
if redis.call('HGET', mbKey(P, id), 'sub') == '1' then redis.call('SADD', subsKey(P), name) end
dropMailbox(P, id)
redis.call('HDEL', P .. ':mailboxes', name)
touch(P)
return blobs
