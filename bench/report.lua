-- wrk script: POST a report, each request from a new client address (X-Forwarded-For, which
-- OutageHub believes only from its trusted proxy: loopback here). The addresses are strings in a
-- header only: no packet goes anywhere but loopback. Arguments: path, delay (ms before each
-- request of a connection, 0: flat out), tag (a disjoint address range per run).
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  path = args[1] or "/api/v1/services/bench-intake/reports/"
  pause = tonumber(args[2] or "0")
  tag = tonumber(args[3] or "0")
  counter = 0
  body = '{"issue_type": "payment", "comment": "checkout fails"}'
  if pause > 0 then
    delay = function() return pause end
  end
end

function request()
  counter = counter + 1
  local n = counter
  local first = 11 + (tag * 8 + thread_id) % 200
  local ip = string.format("%d.%d.%d.%d", first, math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = ip,
    ["User-Agent"] = "bench",
  }, body)
end
