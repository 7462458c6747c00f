-- removeSubscriber: uncounts one subscriber of this node; returns the channel's remaining count.
-- KEYS: meta, buf, subs, channels set
-- ARGV: channel, now, node key prefix, lease ms, node id
local c = { name = ARGV[1], meta = KEYS[1], buf = KEYS[2], subs = KEYS[3] }
local now = clock(ARGV[2])
if redis.call('EXISTS', c.meta) == 0 then return 0 end
local mine = tonumber(redis.call('HGET', c.subs, ARGV[5]) or '0')
if mine <= 0 then return live(c, now, ARGV[3], KEYS[4]) or 0 end
if mine == 1 then redis.call('HDEL', c.subs, ARGV[5]) else redis.call('HINCRBY', c.subs, ARGV[5], -1) end
redis.call('HSET', c.meta, 'activity', int(now))
local left = live(c, now, ARGV[3], KEYS[4])
if left == nil then return 0 end
set_ttl(c, now, left, tonumber(ARGV[4]))
return left
