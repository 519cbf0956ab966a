-- wrk script: every request speaks for the next user in the token file, round robin.
-- wrk ... -s bench/load.lua -- <scenario> <users file> [think time ms, min] [max]
-- Scenarios: list, list_in_list (the same page with `list=` the user's list, whose id is that of
-- their first task: bench/seed.py), get, create, toggle, mixed (70% list/get, 30% create/toggle);
-- me (GET /api/me) and changes (GET /api/changes from the user's cursor) for bench/changes.py;
-- move (POST /api/tasks/{id}/move after another task of the user's list) for bench/moves.py.
-- Users file: one line a user, "<token> <task id> <task id> ..." ("<token> <cursor>" for changes).
-- A think time makes each connection wait between requests (a browser, not a load generator).

local users, scenario, think_min, think_max = {}, "list", 0, 0
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_number", counter)
end

function init(args)
  scenario = args[1] or "list"
  think_min = tonumber(args[3] or "0")
  think_max = tonumber(args[4] or args[3] or "0")
  for line in io.lines(args[2]) do
    local fields = {}
    for word in line:gmatch("%S+") do fields[#fields + 1] = word end
    local token = table.remove(fields, 1)
    users[#users + 1] = { auth = "Bearer " .. token, ids = fields }
  end
  -- Threads start at different users so they do not move in step.
  counter = (thread_number or 1) * 7919
  math.randomseed(os.time() + counter)
end

local function headers_for(user, with_body)
  local headers = { ["Authorization"] = user.auth, ["X-Forwarded-Proto"] = "https" }
  if with_body then headers["Content-Type"] = "application/json" end
  return headers
end

local function one_of(ids)
  return ids[math.random(#ids)]
end

-- One of the user's tasks in their list: bench/seed.py leaves every tenth (the 1st, 11th...) in the inbox.
local function one_listed(ids)
  local k
  repeat k = math.random(#ids) until (k - 1) % 10 ~= 0
  return ids[k]
end

function request()
  counter = counter + 1
  local user = users[counter % #users + 1]
  local kind = scenario
  if kind == "mixed" then
    local roll = math.random(100)
    if roll <= 35 then kind = "list" elseif roll <= 70 then kind = "get" elseif roll <= 85 then kind = "create" else kind = "toggle" end
  end
  if kind == "list" then
    return wrk.format("GET", "/api/tasks?limit=50", headers_for(user))
  elseif kind == "list_in_list" then
    return wrk.format("GET", "/api/tasks?limit=50&list=" .. user.ids[1], headers_for(user))
  elseif kind == "get" then
    return wrk.format("GET", "/api/tasks/" .. one_of(user.ids), headers_for(user))
  elseif kind == "create" then
    return wrk.format("POST", "/api/tasks", headers_for(user, true), '{"title": "Benchmark task", "priority": "medium"}')
  elseif kind == "me" then
    return wrk.format("GET", "/api/me", headers_for(user))
  elseif kind == "changes" then
    return wrk.format("GET", "/api/changes?cursor=" .. user.ids[1], headers_for(user))
  elseif kind == "move" then
    local moved, after = one_listed(user.ids), one_listed(user.ids)
    while after == moved do after = one_listed(user.ids) end
    return wrk.format("POST", "/api/tasks/" .. moved .. "/move", headers_for(user, true), '{"after": ' .. after .. '}')
  elseif kind == "toggle" then
    return wrk.format("PATCH", "/api/tasks/" .. one_of(user.ids) .. "/complete", headers_for(user, true), "{}")
  end
  error("unknown scenario " .. kind)
end

function delay()
  if think_max <= 0 then return 0 end
  return math.random(think_min, think_max)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
