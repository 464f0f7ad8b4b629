-- purge.lua: delete every mailbox, message and idempotency key of a user.
-- P:meta stays, so that UIDVALIDITY never repeats if the user comes back.
-- ARGV: P. Returns the blob keys of the deleted messages.
local P = ARGV[1]
local blobs = {}
local all = redis.call('HGETALL', P .. ':mailboxes')
for i = 1, #all, 2 do
  blobsOf(P, all[i + 1], blobs)
  dropMailbox(P, all[i + 1])
end
redis.call('DEL', P .. ':mailboxes', P .. ':idem', subsKey(P))
touch(P)
return blobs
