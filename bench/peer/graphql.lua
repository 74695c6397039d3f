-- wrk script of the peer in the load benchmark (bench/run.sh --peer, docs/PERFORMANCE.md): POSTs
-- to PostGraphile the documents that ask for the same data as taskql's (bench/wrk/graphql.lua),
-- for ids picked at random from the same files that bench/gen wrote.
--
--   wrk -t2 -c32 -d20s -s graphql.lua http://127.0.0.1:18092/graphql -- SHAPE FILE
--
-- SHAPE is page (FILE lines "projectId token") or task ("taskId token"). PostGraphile has no
-- authentication: no token is sent. The page's organization, which taskql takes from the token's
-- viewer and pgbench computes from the project's number, is taken from the token's name
-- ("bench-org_0001-admin": bench/gen names the admin's token after its organization).
-- assign has no peer document: PostGraphile cannot do that work without custom SQL functions.
-- Every response is checked like taskql's, and done() prints the same RESULT line for run.sh.

local queries = {
  page = 'query Page($o: String!, $p: String!) { allTasks(condition: {organizationId: $o, projectId: $p}, first: 50, orderBy: PRIMARY_KEY_ASC) { nodes { rowId label status phaseByProjectIdAndPhaseId { rowId name internal } taskAssigneesByTaskId { nodes { userByUserId { rowId firstName lastName email } } } } } }',
  task = 'query Task($t: String!) { taskByRowId(rowId: $t) { rowId label taskAssigneesByTaskId { nodes { userByUserId { rowId firstName lastName email } } } } }',
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
    error("usage: -- page|task FILE")
  end
  rows = {}
  for line in io.lines(file) do
    local f = {}
    for w in line:gmatch("%S+") do f[#f + 1] = w end
    if #f > 0 then
      if shape == "page" then
        local org = f[2] and f[2]:match("(org_%d+)")
        if not org then error("no organization in the token of line: " .. line) end
        f[2] = org
      end
      rows[#rows + 1] = f
    end
  end
  if #rows == 0 then error("no ids in " .. file) end
  math.randomseed(os.time() * 100 + seed)
  prefix = '{"query":"' .. queries[shape] .. '","variables":'
  bad, checked, sample = 0, 0, nil
end

function request()
  local r = rows[math.random(#rows)]
  local vars
  if shape == "page" then
    vars = '{"o":"' .. r[2] .. '","p":"' .. r[1] .. '"}'
  else
    vars = '{"t":"' .. r[1] .. '"}'
  end
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, prefix .. vars .. '}')
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
