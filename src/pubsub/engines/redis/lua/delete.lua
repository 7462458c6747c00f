-- delete: removes the channel and its messages, tells every node; info before deletion, or nil.
-- KEYS: meta, buf, subs, channels set
-- ARGV: channel, now, node key prefix, lease ms, notify channel
local c = { name = ARGV[1], meta = KEYS[1], buf = KEYS[2], subs = KEYS[3] }
local now = clock(ARGV[2])
local subs = live(c, now, ARGV[3], KEYS[4])
if subs == nil then return nil end
local i = info(c, now, subs)
drop(c, KEYS[4])
redis.call('PUBLISH', ARGV[5], 'd')
return i
