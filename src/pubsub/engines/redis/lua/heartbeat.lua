-- heartbeat: renews this node's lease. Returns 1 when the lease had lapsed (or Redis lost it),
-- so the node must claim its subscriber counts again.
-- KEYS: node key
-- ARGV: lease ms
local had = redis.call('SET', KEYS[1], '1', 'PX', ARGV[1], 'GET')
if had then return 0 end
return 1
