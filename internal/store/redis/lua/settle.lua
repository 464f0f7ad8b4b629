-- settle.lua: renew, save the state of, ack, retry or bury a job if the
-- caller's claim still holds: fenced by attempts, so a worker whose lease
-- was taken over cannot touch the new claim.
-- An acked job is recorded in Q:done (for JobKnown), and the records older
-- than the retention are pruned in the same step: each Ack removes about as
-- many old records as it adds, so the set stays one retention long. Its
-- state, if any, is kept in Q:done:<id>, which expires with the retention.
-- ARGV: Q, id, attempts, op (renew, save, ack, retry, bury), delay or lease
-- ms, reason, not-before (unix ns), done retention ms, state.
local Q, id = ARGV[1], ARGV[2]
local jk = Q .. ':job:' .. id
local f = redis.call('HMGET', jk, 'a', 's', 'x')
local op = ARGV[4]
if not f[1] or f[2] == 'd' or tonumber(f[1]) ~= tonumber(ARGV[3]) or (op == 'renew' and f[2] ~= 'c') then
  fail('ERR_NOTFOUND', 'job ' .. id .. ' (attempt ' .. ARGV[3] .. '): not held')
end
if op == 'renew' then
  local ends = nowMs() + tonumber(ARGV[5])
  local cur = tonumber(redis.call('ZSCORE', Q .. ':leases', id) or 0)
  if ends > cur then redis.call('ZADD', Q .. ':leases', ends, id) end
  return 1
end
if op == 'save' then
  redis.call('HSET', jk, 'st', ARGV[9])
  return 1
end
detach(Q, id, f[3])
if op == 'ack' then
  redis.call('DEL', jk)
  local now = nowMs()
  redis.call('ZADD', Q .. ':done', now, id)
  redis.call('ZREMRANGEBYSCORE', Q .. ':done', '-inf', string.format('(%d', now - tonumber(ARGV[8])))
  if ARGV[9] ~= '' then
    redis.call('SET', Q .. ':done:' .. id, ARGV[9], 'PX', ARGV[8])
  else
    redis.call('DEL', Q .. ':done:' .. id)
  end
elseif op == 'retry' then
  redis.call('HSET', jk, 'e', ARGV[6], 'nb', ARGV[7], 'c', '', 'st', ARGV[9])
  makeReady(Q, id, tonumber(ARGV[5]), nowMs())
else
  redis.call('HSET', jk, 'st', ARGV[9])
  bury(Q, id, nil, ARGV[6])
end
return 1
