-- ensure.lua: create the default mailboxes that do not exist (subscribed).
-- ARGV: P, then name, special-use, fresh id for each default mailbox.
local P = ARGV[1]
local ids = {}
for i = 2, #ARGV, 3 do ids[#ids + 1] = ARGV[i + 2] end
checkFreshIDs(P, ids)
local created = false
for i = 2, #ARGV, 3 do
  if createMailbox(P, ARGV[i], ARGV[i + 2], ARGV[i + 1], 1) then created = true end
end
if created then touch(P) end
return created and 1 or 0
