-- GET /users/<id> with a random id in [lo, hi] per request.
-- Usage: wrk ... -s bench/lua/get-random-id.lua <url> -- <lo> <hi>
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

function init(args)
  lo = tonumber(args[1]) or 1
  hi = tonumber(args[2]) or 10000
  -- Each thread has its own Lua state: seed them differently so they do not read the same ids.
  math.randomseed(os.time() * 1000 + (tid or 0))
end

function request()
  return wrk.format("GET", "/users/" .. math.random(lo, hi))
end
