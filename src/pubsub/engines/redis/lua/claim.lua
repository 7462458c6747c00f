-- claim: sets this node's subscriber count of a channel to what the node really holds and
-- renews its lease there (every heartbeat; after Redis lost the count: restart, failover, a
-- lapsed lease) and renews the channel's expiry. Count 0 drops the node's count.
-- KEYS: meta, buf, subs, channels index
-- ARGV: channel, now, lease ms, node id, count, buffer_length, message_timeout, channel_timeout
local c = channel(ARGV[1])
local now = clock(ARGV[2])
local lease = tonumber(ARGV[3])
local count = tonumber(ARGV[5])
local subs = live(c, now)
if subs == nil then
  if count == 0 then return 0 end
  create(c, now, ARGV[6], ARGV[7], ARGV[8])
end
count_node(c, ARGV[4], count, nil, lease)
subs = live_subscribers(c)
set_ttl(c, now, subs, lease)
return subs
