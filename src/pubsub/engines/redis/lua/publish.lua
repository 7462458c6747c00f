-- publish: assign the id, store (trim to buffer_length), notify, answer the channel info.
-- KEYS: meta, buf, subs, channels index, published counter, notify channel
-- ARGV: channel, now, lease ms, data, content type, has ct (1/0), event name, has event (1/0),
--       buffer_length, message_timeout, channel_timeout, seq, publish command (PUBLISH, or
--       SPUBLISH on a cluster)
-- Returns { time, tag, seq, published_at, expires_at (0 = never), messages, requested, subscribers }
local c = channel(ARGV[1])
local now = clock(ARGV[2])
local bl, mt = tonumber(ARGV[9]), tonumber(ARGV[10])
local subs = live(c, now)
if subs == nil then
  create(c, now, ARGV[9], ARGV[10], ARGV[11])
  subs = 0
end
redis.call('HSET', c.meta, 'buffer_length', ARGV[9], 'message_timeout', ARGV[10], 'channel_timeout', ARGV[11])

-- Ids are per channel (seconds, then a tag within the second), so nothing global is needed.
local secs = math.floor(now / 1000)
local last = redis.call('HMGET', c.meta, 'last_time', 'last_tag')
local tag = 0
if last[1] and secs <= tonumber(last[1]) then
  secs = tonumber(last[1])
  tag = tonumber(last[2]) + 1
end
local seq = tonumber(ARGV[12])
redis.call('INCR', KEYS[5])
local exp = 0
if mt > 0 then exp = now + mt * 1000 end
redis.call('HSET', c.meta, 'last_time', int(secs), 'last_tag', int(tag), 'activity', int(now))

local ctv, ctl, evv, evl = '', -1, '', -1
if ARGV[6] == '1' then ctv = ARGV[5]; ctl = #ctv end
if ARGV[8] == '1' then evv = ARGV[7]; evl = #evv end
local entry = table.concat({ int(secs), ' ', int(tag), ' ', int(exp), ' ', int(now), ' ', int(seq), ' ', int(ctl), ' ', int(evl), '\n', ctv, evv, ARGV[4] })

if bl > 0 then
  redis.call('RPUSH', c.buf, entry)
  redis.call('LTRIM', c.buf, -bl, -1)
  local hold = redis.call('HGET', c.meta, 'hold')
  if exp == 0 then
    redis.call('HSET', c.meta, 'hold', '-1')
  elseif hold ~= '-1' and exp > tonumber(hold or '0') then
    redis.call('HSET', c.meta, 'hold', int(exp))
  end
else
  redis.call('DEL', c.buf)
end
set_ttl(c, now, subs, tonumber(ARGV[3]))
redis.call(ARGV[13], KEYS[6], 'm' .. entry)
local i = info(c, now, subs)
return { secs, tag, seq, now, exp, i[1], i[2], subs }
