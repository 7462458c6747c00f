-- info: the channel info, or nil when the channel does not exist.
-- KEYS: meta, buf, subs, channels set
-- ARGV: channel, now, node key prefix, lease ms
local c = { name = ARGV[1], meta = KEYS[1], buf = KEYS[2], subs = KEYS[3] }
local now = clock(ARGV[2])
local subs = live(c, now, ARGV[3], KEYS[4])
if subs == nil then return nil end
return info(c, now, subs)
