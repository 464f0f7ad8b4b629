-- jobknown.lua: ARGV: Q, id, done retention ms, queued only (1/0).
-- Returns 1 if the job is in the queue in any state (its hash exists:
-- ready, claimed, delayed or dead) or, unless queued only, was acked
-- within the retention (Q:done, see settle.lua).
local Q, id = ARGV[1], ARGV[2]
if redis.call('EXISTS', Q .. ':job:' .. id) == 1 then return 1 end
if ARGV[4] == '1' then return 0 end
local at = redis.call('ZSCORE', Q .. ':done', id)
if at and tonumber(at) >= nowMs() - tonumber(ARGV[3]) then return 1 end
return 0
