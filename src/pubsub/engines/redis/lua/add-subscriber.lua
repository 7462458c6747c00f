-- addSubscriber: counts one subscriber of this node (all-or-nothing with the limits).
-- KEYS: meta, buf, subs, channels index
-- ARGV: channel, now, lease ms, node id, existing only (1/0), max subscribers (0 = unlimited),
--       buffer_length, message_timeout, channel_timeout
-- Returns { 'CHANNEL_NOT_FOUND' } | { 'TOO_MANY_SUBSCRIBERS' } | { 'OK', info... }
local c = channel(ARGV[1])
local now = clock(ARGV[2])
local lease = tonumber(ARGV[3])
local subs = live(c, now)
if subs == nil then
  if ARGV[5] == '1' then return { 'CHANNEL_NOT_FOUND' } end
  create(c, now, ARGV[7], ARGV[8], ARGV[9])
  subs = 0
end
local max = tonumber(ARGV[6])
if max > 0 and subs >= max then return { 'TOO_MANY_SUBSCRIBERS' } end
count_node(c, ARGV[4], nil, 1, lease)
subs = subs + 1
redis.call('HSET', c.meta, 'requested', int(now), 'activity', int(now))
set_ttl(c, now, subs, lease)
local i = info(c, now, subs)
return { 'OK', i[1], i[2], i[3], i[4], i[5] }
