-- settle.lua: ack, retry or bury a job if the caller's claim still holds:
-- fenced by attempts, so a worker whose lease was taken over cannot touch
-- the new claim.
-- An acked job is recorded in Q:done (for JobKnown), and the records older
-- than the retention are pruned in the same step: each Ack removes about as
-- many old records as it adds, so the set stays one retention long.
-- ARGV: Q, id, attempts, op (ack, retry, bury), delay ms, reason, not-before
-- (unix ns), done retention ms.
local Q, id = ARGV[1], ARGV[2]
local jk = Q .. ':job:' .. id
local f = redis.call('HMGET', jk, 'a', 's', 'x')
if not f[1] or f[2] == 'd' or tonumber(f[1]) ~= tonumber(ARGV[3]) then
  fail('ERR_NOTFOUND', 'job ' .. id .. ' (attempt ' .. ARGV[3] .. '): not held')
end
detach(Q, id, f[3])
local op = ARGV[4]
if op == 'ack' then
  redis.call('DEL', jk)
  local now = nowMs()
  redis.call('ZADD', Q .. ':done', now, id)
  redis.call('ZREMRANGEBYSCORE', Q .. ':done', '-inf', string.format('(%d', now - tonumber(ARGV[8])))
elseif op == 'retry' then
  redis.call('HSET', jk, 'e', ARGV[6], 'nb', ARGV[7], 'c', '')
  makeReady(Q, id, tonumber(ARGV[5]), nowMs())
else
  bury(Q, id, nil, ARGV[6])
end
return 1
