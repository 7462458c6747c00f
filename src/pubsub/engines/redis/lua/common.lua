-- Shared by every script of the redis engine (prepended to each): one channel's lazy upkeep,
-- the same rules as the memory engine's ChannelBuffer (expiry from the head only, removal of an
-- empty channel after channel_timeout), plus the subscriber counts of live nodes only.
--
-- A channel `c` is { name, meta, buf, subs }: its meta hash (activity, requested, last_time,
-- last_tag, buffer_length, message_timeout, channel_timeout, hold), its buffer list of encoded
-- entries and its per-node subscriber counts. Buffer entry = header line + content type + event
-- name + data, header = "<time> <tag> <expires_at|0> <published_at> <seq> <ct_len|-1> <ev_len|-1>\n".

local function clock(arg)
  if arg ~= nil and arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function int(n) return string.format('%d', n) end

local function entry_head(e)
  local time, tag, exp = string.match(e, '^(%d+) (%d+) (%d+) ')
  return tonumber(time), tonumber(tag), tonumber(exp)
end

-- Sum of the counts of nodes whose lease is alive; a dead node's count is dropped for good.
local function live_subscribers(c, node_prefix)
  local all = redis.call('HGETALL', c.subs)
  local total = 0
  for i = 1, #all, 2 do
    if redis.call('EXISTS', node_prefix .. all[i]) == 1 then
      total = total + tonumber(all[i + 1])
    else
      redis.call('HDEL', c.subs, all[i])
    end
  end
  return total
end

local function expire(c, now)
  while true do
    local head = redis.call('LINDEX', c.buf, 0)
    if not head then return end
    local _, _, exp = entry_head(head)
    if exp == 0 or exp > now then return end
    redis.call('LPOP', c.buf)
    local act = tonumber(redis.call('HGET', c.meta, 'activity') or '0')
    if exp > act then redis.call('HSET', c.meta, 'activity', int(exp)) end
  end
end

local function drop(c, channels_key)
  redis.call('DEL', c.meta, c.buf, c.subs)
  redis.call('SREM', channels_key, c.name)
end

-- The channel's live subscriber count after lazy expiry, or nil when it does not exist (any more).
local function live(c, now, node_prefix, channels_key)
  if redis.call('EXISTS', c.meta) == 0 then return nil end
  expire(c, now)
  local subs = live_subscribers(c, node_prefix)
  if subs == 0 and redis.call('LLEN', c.buf) == 0 then
    local act = tonumber(redis.call('HGET', c.meta, 'activity') or '0')
    local ct = tonumber(redis.call('HGET', c.meta, 'channel_timeout') or '0')
    if now - act >= ct * 1000 then
      drop(c, channels_key)
      return nil
    end
  end
  return subs
end

local function create(c, now, channels_key, bl, mt, ct)
  redis.call('HSET', c.meta, 'activity', int(now), 'buffer_length', bl, 'message_timeout', mt, 'channel_timeout', ct)
  redis.call('SADD', channels_key, c.name)
end

-- { messages, requested, subscribers, last_time (-1 = none), last_tag }
local function info(c, now, subs)
  local m = redis.call('HMGET', c.meta, 'requested', 'last_time', 'last_tag')
  local requested = -1
  if m[1] then requested = math.max(0, math.floor((now - tonumber(m[1])) / 1000)) end
  return { redis.call('LLEN', c.buf), requested, subs, tonumber(m[2] or '-1'), tonumber(m[3] or '0') }
end

-- Backstop for channels nobody touches again: keys expire (real time) once nothing can keep them,
-- with `lease_ms` of slack while subscribers are counted (their nodes' heartbeats renew it).
local function set_ttl(c, now, subs, lease_ms)
  local m = redis.call('HMGET', c.meta, 'hold', 'activity', 'channel_timeout')
  if m[1] == '-1' then
    redis.call('PERSIST', c.meta)
    redis.call('PERSIST', c.buf)
    redis.call('PERSIST', c.subs)
    return
  end
  local ttl = math.max(tonumber(m[1] or '0') - now, tonumber(m[2] or '0') - now, 0) + tonumber(m[3] or '0') * 1000
  if subs > 0 then ttl = ttl + lease_ms end
  ttl = int(ttl + 1000)
  redis.call('PEXPIRE', c.meta, ttl)
  redis.call('PEXPIRE', c.buf, ttl)
  redis.call('PEXPIRE', c.subs, ttl)
end

local function channel_at(prefix, name)
  local base = prefix .. '{' .. name .. '}:'
  return { name = name, meta = base .. 'm', buf = base .. 'b', subs = base .. 's' }
end
