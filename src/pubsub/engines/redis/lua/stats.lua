-- stats: engine-wide counters over every channel (each brought up to date first).
-- KEYS: channels set, seq counter
-- ARGV: now, node key prefix, channel key prefix
-- Returns { published, stored, channels, subscribers }
local now = clock(ARGV[1])
local stored, channels, subscribers = 0, 0, 0
for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local c = channel_at(ARGV[3], name)
  local subs = live(c, now, ARGV[2], KEYS[1])
  if subs ~= nil then
    channels = channels + 1
    subscribers = subscribers + subs
    stored = stored + redis.call('LLEN', c.buf)
  end
end
return { tonumber(redis.call('GET', KEYS[2]) or '0'), stored, channels, subscribers }
