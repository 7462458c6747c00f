-- Shared by every script of the redis engine (prepended to each): one channel's lazy upkeep,
-- the same rules as the memory engine's ChannelBuffer (expiry from the head only, removal of an
-- empty channel after channel_timeout), plus the subscriber counts of live nodes only.
--
-- Every key a script touches is declared in KEYS and hashes to the channel's slot (Redis
-- Cluster): the channel's own keys share its `{channel}` hash tag, and the channels index and
-- the published counter are per slot (one global key each on a standalone Redis).
--
-- A channel `c` is { name, meta, buf, subs, index }: its meta hash (activity, requested,
-- last_time, last_tag, buffer_length, message_timeout, channel_timeout, hold), its buffer list of
-- encoded entries, its per-node subscriber counts and the set that indexes it. Buffer entry =
-- header line + content type + event name + data, header =
-- "<time> <tag> <expires_at|0> <published_at> <seq> <ct_len|-1> <ev_len|-1>\n".
--
-- Subscriber counts: field `n:<node>` = that node's count, `x:<node>` = until when it counts
-- (Redis's own clock, ms). A node's heartbeat pushes `x:` forward; a node that stops beating
-- stops being counted once it passes. Redis's clock rather than the engine's: leases are real
-- time even when tests drive the engine clock.

local function clock(arg)
  if arg ~= nil and arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function real_now() return clock('') end

local function int(n) return string.format('%d', n) end

local function channel(name)
  return { name = name, meta = KEYS[1], buf = KEYS[2], subs = KEYS[3], index = KEYS[4] }
end

local function entry_head(e)
  local time, tag, exp = string.match(e, '^(%d+) (%d+) (%d+) ')
  return tonumber(time), tonumber(tag), tonumber(exp)
end

-- Sum of the counts of nodes whose lease is alive; a lapsed node's count is dropped for good.
local function live_subscribers(c)
  local all = redis.call('HGETALL', c.subs)
  local counts, until_ms = {}, {}
  for i = 1, #all, 2 do
    local kind, node = string.sub(all[i], 1, 2), string.sub(all[i], 3)
    if kind == 'n:' then counts[node] = tonumber(all[i + 1])
    elseif kind == 'x:' then until_ms[node] = tonumber(all[i + 1]) end
  end
  local rt = real_now()
  local total = 0
  for node, n in pairs(counts) do
    local x = until_ms[node]
    if x ~= nil and x > rt then
      total = total + n
    else
      redis.call('HDEL', c.subs, 'n:' .. node, 'x:' .. node)
    end
  end
  for node, _ in pairs(until_ms) do
    if counts[node] == nil then redis.call('HDEL', c.subs, 'x:' .. node) end
  end
  return total
end

-- Sets (or, by = nil, adds to) this node's count and renews its lease on the channel.
local function count_node(c, node, value, by, lease_ms)
  if by ~= nil then
    value = tonumber(redis.call('HGET', c.subs, 'n:' .. node) or '0') + by
  end
  if value > 0 then
    redis.call('HSET', c.subs, 'n:' .. node, int(value), 'x:' .. node, int(real_now() + lease_ms))
  else
    redis.call('HDEL', c.subs, 'n:' .. node, 'x:' .. node)
  end
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

local function drop(c)
  redis.call('DEL', c.meta, c.buf, c.subs)
  redis.call('SREM', c.index, c.name)
end

-- The channel's live subscriber count after lazy expiry, or nil when it does not exist (any more).
local function live(c, now)
  if redis.call('EXISTS', c.meta) == 0 then
    -- Its keys may have expired on their own: the index forgets it too.
    redis.call('SREM', c.index, c.name)
    return nil
  end
  expire(c, now)
  local subs = live_subscribers(c)
  if subs == 0 and redis.call('LLEN', c.buf) == 0 then
    local act = tonumber(redis.call('HGET', c.meta, 'activity') or '0')
    local ct = tonumber(redis.call('HGET', c.meta, 'channel_timeout') or '0')
    if now - act >= ct * 1000 then
      drop(c)
      return nil
    end
  end
  return subs
end

local function create(c, now, bl, mt, ct)
  redis.call('HSET', c.meta, 'activity', int(now), 'buffer_length', bl, 'message_timeout', mt, 'channel_timeout', ct)
  redis.call('SADD', c.index, c.name)
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
