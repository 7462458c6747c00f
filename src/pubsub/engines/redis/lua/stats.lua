-- stats: engine-wide counters over one channels index (each channel brought up to date first).
-- The engine calls it per index (one on a standalone Redis, one per slot in use on a cluster)
-- and per batch of that index's channels, and adds the answers up.
-- KEYS: channels index, published counter, then meta, buf, subs of each channel in ARGV
-- ARGV: now, channel names...
-- Returns { published, stored, channels, subscribers }
local now = clock(ARGV[1])
local stored, channels, subscribers = 0, 0, 0
for i = 2, #ARGV do
  local k = 3 + (i - 2) * 3
  local c = { name = ARGV[i], meta = KEYS[k], buf = KEYS[k + 1], subs = KEYS[k + 2], index = KEYS[1] }
  local subs = live(c, now)
  if subs ~= nil then
    channels = channels + 1
    subscribers = subscribers + subs
    stored = stored + redis.call('LLEN', c.buf)
  end
end
return { tonumber(redis.call('GET', KEYS[2]) or '0'), stored, channels, subscribers }
