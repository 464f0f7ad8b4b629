-- messages.lua: read messages with first <= UID <= last and modseq >
-- changedSince, in UID order. ARGV: P, mailbox id, first, last ('+inf'), changedSince.
-- Returns uid, head, body for each.
local P, id = ARGV[1], ARGV[2]
local k = mbKey(P, id)
if redis.call('EXISTS', k) == 0 then fail('ERR_NOTFOUND', 'mailbox id ' .. id) end
local since = tonumber(ARGV[5])
local uids = redis.call('ZRANGEBYSCORE', k .. ':u', ARGV[3], ARGV[4])
local out = {}
local chunk = 1000
for i = 1, #uids, chunk do
  local part = {}
  for j = i, math.min(i + chunk - 1, #uids) do part[#part + 1] = uids[j] end
  local heads = redis.call('HMGET', k .. ':h', unpack(part))
  local keep = {}
  for j = 1, #part do
    if heads[j] and (since == 0 or parseHead(heads[j]) > since) then keep[#keep + 1] = j end
  end
  if #keep > 0 then
    local want = {}
    for j = 1, #keep do want[j] = part[keep[j]] end
    local bodies = redis.call('HMGET', k .. ':b', unpack(want))
    for j = 1, #keep do
      out[#out + 1] = part[keep[j]]
      out[#out + 1] = heads[keep[j]]
      out[#out + 1] = bodies[j] or ''
    end
  end
end
return out
