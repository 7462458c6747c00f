-- info: the channel info, or nil when the channel does not exist.
-- KEYS: meta, buf, subs, channels index
-- ARGV: channel, now, lease ms
local c = channel(ARGV[1])
local now = clock(ARGV[2])
local subs = live(c, now)
if subs == nil then return nil end
return info(c, now, subs)
