-- removeSubscriber: uncounts one subscriber of this node; returns the channel's remaining count.
-- KEYS: meta, buf, subs, channels index
-- ARGV: channel, now, lease ms, node id
local c = channel(ARGV[1])
local now = clock(ARGV[2])
local lease = tonumber(ARGV[3])
if redis.call('EXISTS', c.meta) == 0 then return 0 end
local mine = tonumber(redis.call('HGET', c.subs, 'n:' .. ARGV[4]) or '0')
if mine <= 0 then return live(c, now) or 0 end
count_node(c, ARGV[4], nil, -1, lease)
redis.call('HSET', c.meta, 'activity', int(now))
local left = live(c, now)
if left == nil then return 0 end
set_ttl(c, now, left, lease)
return left
