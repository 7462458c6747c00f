-- delete: removes the channel and its messages, tells every node; info before deletion, or nil.
-- KEYS: meta, buf, subs, channels index, notify channel
-- ARGV: channel, now, lease ms, publish command (PUBLISH, or SPUBLISH on a cluster)
local c = channel(ARGV[1])
local now = clock(ARGV[2])
local subs = live(c, now)
if subs == nil then return nil end
local i = info(c, now, subs)
drop(c)
redis.call(ARGV[4], KEYS[5], 'd')
return i
