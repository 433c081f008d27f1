-- POST /users with a unique name and e-mail per request: a per-thread counter, the thread's
-- number and a per-run tag (first script argument) plus a random suffix, so e-mails never collide
-- across threads, warm-up and measured runs.
-- Usage: wrk ... -s bench/lua/post-user.lua <url> -- <run-tag>
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0))
  tag = (args[1] or "run") .. "-" .. string.format("%x", math.random(0, 0x7fffffff)) .. "-" .. (tid or 0)
  n = 0
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  n = n + 1
  local body = string.format('{"name":"Bench %s-%d","email":"bench-%s-%d@example.com"}', tag, n, tag, n)
  return wrk.format("POST", "/users", headers, body)
end
