-- subscribe.lua: subscribe an existing mailbox, or unsubscribe a name
-- whether or not its mailbox exists (see store.Mailboxes.SetSubscribed).
-- A mailbox's subscription is its 'sub' field; a subscribed name without
-- a mailbox is a member of P:subs. ARGV: P, name, 1 or 0, the most
-- subscriptions a user may have.
local P, name, sub, most = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local id = redis.call('HGET', P .. ':mailboxes', name)
if sub == '1' then
  if not id then fail('ERR_NOTFOUND', 'mailbox ' .. name) end
  if redis.call('HGET', mbKey(P, id), 'sub') == '1' then return 0 end
  local n = redis.call('SCARD', subsKey(P))
  for _, other in ipairs(redis.call('HVALS', P .. ':mailboxes')) do
    if redis.call('HGET', mbKey(P, other), 'sub') == '1' then n = n + 1 end
  end
  if n >= most then fail('ERR_LIMIT', 'more than ' .. most .. ' subscriptions') end
  redis.call('HSET', mbKey(P, id), 'sub', 1)
elseif id then
  if redis.call('HGET', mbKey(P, id), 'sub') ~= '1' then return 0 end
  redis.call('HSET', mbKey(P, id), 'sub', 0)
elseif redis.call('SREM', subsKey(P), name) == 0 then
  fail('ERR_NOTFOUND', 'subscription ' .. name)
end
touch(P)
return 1
