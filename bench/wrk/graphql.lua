-- wrk script of the load benchmark (docs/PERFORMANCE.md): POSTs one of three GraphQL documents
-- for ids picked at random from a file that bench/gen wrote, with the bearer token of the id's
-- organization's admin.
--
--   wrk -t2 -c32 -d20s -s graphql.lua http://127.0.0.1:8090/query -- SHAPE FILE
--
-- SHAPE is page (FILE lines "projectId token"), task ("taskId token") or assign ("taskId
-- userId token": assignUsers then unassignUser of that user, one document, two mutations).
-- Every response is checked: a non-200 status or a body holding "errors" is counted, and done()
-- prints one line "RESULT shape rps p50_us p99_us requests bad socket_errors" for run.sh.

local queries = {
  page = 'query Page($p: ID!) { tasks(filter: {projectId: $p}, first: 50) { nodes { id label status phase { id name internal } assignees { id name email } } } }',
  task = 'query Task($t: ID!) { task(id: $t) { id label assignees { id name email } } }',
  assign = 'mutation Assign($t: ID!, $u: ID!) { a: assignUsers(taskId: $t, userIds: [$u]) { id assignees { id } } u: unassignUser(taskId: $t, userId: $u) { id assignees { id } } }',
}

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
  table.insert(threads, thread)
end

function init(args)
  shape, file = args[1], args[2]
  if not queries[shape] or not file then
    error("usage: -- page|task|assign FILE")
  end
  rows = {}
  for line in io.lines(file) do
    local f = {}
    for w in line:gmatch("%S+") do f[#f + 1] = w end
    if #f > 0 then rows[#rows + 1] = f end
  end
  if #rows == 0 then error("no ids in " .. file) end
  math.randomseed(os.time() * 100 + seed)
  prefix = '{"query":"' .. queries[shape] .. '","variables":'
  bad, checked, sample = 0, 0, nil
end

function request()
  local r = rows[math.random(#rows)]
  local vars, token
  if shape == "page" then
    vars, token = '{"p":"' .. r[1] .. '"}', r[2]
  elseif shape == "task" then
    vars, token = '{"t":"' .. r[1] .. '"}', r[2]
  else
    vars, token = '{"t":"' .. r[1] .. '","u":"' .. r[2] .. '"}', r[3]
  end
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, prefix .. vars .. '}')
end

function response(status, headers, body)
  checked = checked + 1
  if status ~= 200 or body:find('"errors"', 1, true) or not body:find('"data":{', 1, true) then
    bad = bad + 1
    if not sample then sample = status .. " " .. body:sub(1, 300) end
  end
end

function done(summary, latency, requests)
  local nbad, nchecked, first = 0, 0, nil
  for _, t in ipairs(threads) do
    nbad = nbad + (t:get("bad") or 0)
    nchecked = nchecked + (t:get("checked") or 0)
    first = first or t:get("sample")
  end
  local secs = summary.duration / 1e6
  local e = summary.errors
  local sockerr = e.connect + e.read + e.write + e.timeout
  io.write(string.format("RESULT %s %.1f %d %d %d %d %d\n", threads[1]:get("shape"),
    summary.requests / secs, latency:percentile(50), latency:percentile(99),
    summary.requests, nbad, sockerr))
  if first then io.write("BAD_SAMPLE " .. first .. "\n") end
end
