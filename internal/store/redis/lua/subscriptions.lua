-- subscriptions.lua: every subscribed name, unsorted: the subscribed
-- mailboxes and P:subs. ARGV: P.
local P = ARGV[1]
local out = redis.call('SMEMBERS', subsKey(P))
local all = redis.call('HGETALL', P .. ':mailboxes')
for i = 1, #all, 2 do
  if redis.call('HGET', mbKey(P, all[i + 1]), 'sub') == '1' then out[#out + 1] = all[i] end
end
return out
