-- claim: sets this node's subscriber count of a channel to what the node really holds
-- (after Redis lost it: restart, or the node's lease lapsed) and renews the channel's expiry.
-- KEYS: meta, buf, subs, channels set
-- ARGV: channel, now, node key prefix, lease ms, node id, count, buffer_length,
--       message_timeout, channel_timeout
local c = { name = ARGV[1], meta = KEYS[1], buf = KEYS[2], subs = KEYS[3] }
local now = clock(ARGV[2])
local count = tonumber(ARGV[6])
local subs = live(c, now, ARGV[3], KEYS[4])
if subs == nil then
  if count == 0 then return 0 end
  create(c, now, KEYS[4], ARGV[7], ARGV[8], ARGV[9])
end
if count > 0 then redis.call('HSET', c.subs, ARGV[5], count) else redis.call('HDEL', c.subs, ARGV[5]) end
subs = live_subscribers(c, ARGV[3])
set_ttl(c, now, subs, tonumber(ARGV[4]))
return subs
