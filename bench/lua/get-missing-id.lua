-- GET /users/<id> for ids that do not exist (random in [lo, hi]), counting statuses:
-- 404 is the right answer here, anything else is an error. Prints "status 404=<n> other=<n>".
-- Usage: wrk ... -s bench/lua/get-missing-id.lua <url> -- <lo> <hi>
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

function init(args)
  lo = tonumber(args[1]) or 10000001
  hi = tonumber(args[2]) or 2000000000
  math.randomseed(os.time() * 1000 + (tid or 0))
  expected = 0
  other = 0
end

function request()
  return wrk.format("GET", "/users/" .. math.random(lo, hi))
end

function response(status, headers, body)
  if status == 404 then expected = expected + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local e, o = 0, 0
  for _, thread in ipairs(threads) do
    e = e + thread:get("expected")
    o = o + thread:get("other")
  end
  io.write(string.format("status 404=%d other=%d\n", e, o))
end
