-- messages.lua: the heads of the messages with first <= UID <= last and
-- modseq > changedSince, in UID order, in one consistent read. The bodies
-- are fetched by the caller afterwards: a body never changes once
-- written, and reading 10,000 of them here would block Redis for the
-- whole copy. ARGV: P, mailbox id, first, last ('+inf'), changedSince.
-- Returns the mailbox's 'eb' and 'es' fields ('' if missing: see
-- emailIDOf), then uid, head for each message.
local P, id = ARGV[1], ARGV[2]
local k = mbKey(P, id)
local eb = redis.call('HMGET', k, 'uv', 'eb', 'es')
if not eb[1] then fail('ERR_NOTFOUND', 'mailbox id ' .. id) end
local since = tonumber(ARGV[5])
local uids
if since == 0 then
  uids = redis.call('ZRANGEBYSCORE', k .. ':u', ARGV[3], ARGV[4])
else
  -- What changed since a mod-sequence comes from the :m index, so that an
  -- update poll reads the few heads that changed, not every one.
  local first, last = tonumber(ARGV[3]), math.huge
  if ARGV[4] ~= '+inf' then last = tonumber(ARGV[4]) end
  uids = {}
  for _, u in ipairs(redis.call('ZRANGEBYSCORE', k .. ':m', '(' .. ARGV[5], '+inf')) do
    local n = tonumber(u)
    if n >= first and n <= last then uids[#uids + 1] = u end
  end
  table.sort(uids, function(a, b) return tonumber(a) < tonumber(b) end)
end
local out = {eb[2] or '', eb[3] or ''}
local chunk = 1000
for i = 1, #uids, chunk do
  local part = {}
  for j = i, math.min(i + chunk - 1, #uids) do part[#part + 1] = uids[j] end
  local heads = redis.call('HMGET', k .. ':h', unpack(part))
  for j = 1, #part do
    if heads[j] and (since == 0 or parseHead(heads[j]) > since) then
      out[#out + 1] = part[j]
      out[#out + 1] = heads[j]
    end
  end
end
return out
