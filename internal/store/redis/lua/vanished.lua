-- vanished.lua: the tombstones of a mailbox with a mod-sequence above
-- since (RFC 7162 section 3.2.10), found by binary search in k:x (see
-- bury). ARGV: P, mailbox id, since.
-- Returns {floor, tombstones}: the 'xf' floor (for a mailbox from before
-- tombstones, its HIGHESTMODSEQ: nothing is remembered) and the records.
local P, id, since = ARGV[1], ARGV[2], tonumber(ARGV[3])
local k = mbKey(P, id)
local st = redis.call('HMGET', k, 'hms', 'xf')
if not st[1] then fail('ERR_NOTFOUND', 'mailbox id ' .. id) end
local x = k .. ':x'
local lo, hi = 0, redis.call('STRLEN', x) / TOMB
while lo < hi do
  local mid = math.floor((lo + hi) / 2)
  local _, ms = struct.unpack('>I4I8', redis.call('GETRANGE', x, mid * TOMB, mid * TOMB + TOMB - 1))
  if ms > since then hi = mid else lo = mid + 1 end
end
return {st[2] or st[1], redis.call('GETRANGE', x, lo * TOMB, -1)}
