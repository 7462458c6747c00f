-- addSubscriber: counts one subscriber of this node (all-or-nothing with the limits).
-- KEYS: meta, buf, subs, channels set
-- ARGV: channel, now, node key prefix, lease ms, node id, existing only (1/0), max subscribers
--       (0 = unlimited), buffer_length, message_timeout, channel_timeout
-- Returns { 'CHANNEL_NOT_FOUND' } | { 'TOO_MANY_SUBSCRIBERS' } | { 'OK', info... }
local c = { name = ARGV[1], meta = KEYS[1], buf = KEYS[2], subs = KEYS[3] }
local now = clock(ARGV[2])
local subs = live(c, now, ARGV[3], KEYS[4])
if subs == nil then
  if ARGV[6] == '1' then return { 'CHANNEL_NOT_FOUND' } end
  create(c, now, KEYS[4], ARGV[8], ARGV[9], ARGV[10])
  subs = 0
end
local max = tonumber(ARGV[7])
if max > 0 and subs >= max then return { 'TOO_MANY_SUBSCRIBERS' } end
-- Counted only while this node's lease lives: make sure it does (the heartbeat renews it).
redis.call('SET', ARGV[3] .. ARGV[5], '1', 'PX', ARGV[4])
redis.call('HINCRBY', c.subs, ARGV[5], 1)
subs = subs + 1
redis.call('HSET', c.meta, 'requested', int(now), 'activity', int(now))
set_ttl(c, now, subs, tonumber(ARGV[4]))
local i = info(c, now, subs)
return { 'OK', i[1], i[2], i[3], i[4], i[5] }
