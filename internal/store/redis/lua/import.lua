-- import.lua: replace a user's whole index with mailboxes staged by
-- ImportUser (see snapshot_import.go), in one atomic step: the old
-- mailboxes, messages and idempotency keys go, the staged keys are renamed
-- into place and made persistent, every mailbox gets a UIDVALIDITY greater
-- than its snapshot's and than every value the user had (RFC 9051 section
-- 2.3.1.1), and the change is counted and published, the counter ending
-- above the snapshot's (so that the next snapshot sorts after it).
-- ARGV: P, staging prefix S, snapshot change counter, then for each
-- mailbox: staged key, name, fresh id, snapshot UIDVALIDITY.
-- Returns the blob keys of the old entries.
local P, S, seq = ARGV[1], ARGV[2], ARGV[3]
local MAXUV = 4294967295

-- Every check before the first write.
local now = tonumber(redis.call('TIME')[1])
local last = tonumber(redis.call('HGET', P .. ':meta', 'uidvalidity') or '0')
local uvs = {}
for i = 4, #ARGV, 4 do
  local staged, id = ARGV[i], ARGV[i + 2]
  if redis.call('EXISTS', staged) == 0 then fail('ERR_RETRY', 'staged mailbox ' .. ARGV[i + 1] .. ' expired') end
  if redis.call('EXISTS', mbKey(P, id)) == 1 then fail('ERR_RETRY', 'mailbox id collision') end
  last = math.max(last + 1, now, tonumber(ARGV[i + 3]) + 1)
  if last > MAXUV then fail('ERR_INVALID', 'UIDVALIDITY cannot grow past ' .. MAXUV) end
  uvs[#uvs + 1] = last
end

local blobs = {}
local all = redis.call('HGETALL', P .. ':mailboxes')
for i = 1, #all, 2 do
  blobsOf(P, all[i + 1], blobs)
  dropMailbox(P, all[i + 1])
end
redis.call('DEL', P .. ':mailboxes', P .. ':idem', subsKey(P))

local function move(from, to)
  if redis.call('EXISTS', from) == 1 then
    redis.call('RENAME', from, to)
    redis.call('PERSIST', to) -- RENAME keeps the staging TTL
  end
end
for i = 4, #ARGV, 4 do
  local staged, name, id = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local k = mbKey(P, id)
  move(staged, k)
  for _, suffix in ipairs({':u', ':m', ':h', ':b'}) do move(staged .. suffix, k .. suffix) end
  redis.call('HSET', k, 'uv', string.format('%d', uvs[(i - 4) / 4 + 1]))
  redis.call('HSET', P .. ':mailboxes', name, id)
end
if #uvs > 0 then redis.call('HSET', P .. ':meta', 'uidvalidity', string.format('%d', last)) end
move(S .. ':idem', P .. ':idem')
move(S .. ':subs', subsKey(P))
local changes = redis.call('HGET', P .. ':meta', 'changes')
if not changes or tonumber(changes) < tonumber(seq) then redis.call('HSET', P .. ':meta', 'changes', seq) end
touch(P)
return blobs
