-- The mixed workload of `python -m bench.load`, for wrk 4.1 (LuaJIT). Read the comments in
-- bench/load.py first; this script is started by it with the environment it needs:
--   LOAD_DATA  a Lua file returning the sample (course codes, people, plan ids, ...) and run id
--   LOAD_OUT   a folder: each thread writes one line per answered request to thread-<n>.tsv
--   LOAD_TOKEN the API client's bearer token
--   LOAD_MODE  "warmup" for reads only
--
-- wrk must run one connection per thread (-t N -c N). wrk 4.1 calls response() without saying
-- which request it answers, and one Lua state serves all the connections of its thread; with one
-- connection per state the answer always belongs to the last request, so every answer is counted
-- under its own operation, its latency is measured per operation, and a write can use the ETag
-- that its own read returned. (Per-thread tables cannot be passed to done() either: thread:get
-- of a table crashes wrk 4.1; hence the files.)
--
-- Writes never collide: thread n owns courses n, n+T, n+2T, ... and the people picked the same
-- way, and only edits what it owns; a course or person edit reads the entity, then sends
-- PATCH with the ETag just read. Record batches use keys made of the run, thread and a counter.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } load_timespec;
int clock_gettime(int clock_id, load_timespec *tp);
]])
local clock = ffi.new("load_timespec")
local function now_us()
   ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
   return tonumber(clock.tv_sec) * 1000000 + tonumber(clock.tv_nsec) / 1000
end

-- id, kind, weight (share of requests; an edit is two requests: the read, then the PATCH),
-- and what the report calls it.
OPS = {
   { "course_page", "read", 12, "GET /api/v1/courses?limit=50&offset=N" },
   { "course_search", "read", 10, "GET /api/v1/courses?q=WORDS" },
   { "course_detail", "read", 12, "GET /api/v1/courses/{code}" },
   { "instrument", "read", 8, "GET /api/v1/instruments/{code}" },
   { "plan_detail", "read", 6, "GET /api/v1/plans/{id}" },
   { "plan_validation", "read", 5, "GET /api/v1/plans/{id}/validation" },
   { "coverage_gaps", "read", 2, "GET /api/v1/coverage/gaps" },
   { "scim_by_number", "read", 6, 'GET /scim/v2/Users?filter=...employeeNumber eq "E..."' },
   { "scim_by_family", "read", 4, 'GET /scim/v2/Users?filter=name.familyName sw "Xyz"&count=50' },
   { "transcript", "read", 5, "GET /api/v1/people/{employee number}/transcript" },
   { "records", "write", 10, "POST /api/v1/records (5 records, Idempotency-Key)" },
   { "course_read", "read", 5, "GET /api/v1/courses/{code} (own course, for its ETag)" },
   { "course_patch", "write", 0, "PATCH /api/v1/courses/{code} (If-Match)" },
   { "person_read", "read", 5, "GET /scim/v2/Users/{id} (own person, for its ETag)" },
   { "person_patch", "write", 0, "PATCH /scim/v2/Users/{id} (If-Match: title or active)" },
}
local BATCH = 5

-- ---- set-up: the main state numbers the threads, each thread reads the sample ----------------

local threads = {}
function setup(thread)
   threads[#threads + 1] = thread
   thread:set("id", #threads)
end

local D, id, out, warmup, verifying
local own_courses, own_people = {}, {}
local cursor = { course = 0, person = 0, n = 0 }
local picks, total_weight = {}, 0

function init(args)
   id = wrk.thread:get("id")
   D = dofile(os.getenv("LOAD_DATA"))
   warmup = os.getenv("LOAD_MODE") == "warmup"
   -- wrk calls request() once on its first thread to check the script, and never sends it.
   verifying = id == 1
   math.randomseed(D.seed * 1000 + id)
   for i = id, #D.courses, D.threads do
      own_courses[#own_courses + 1] = D.courses[i]
   end
   for i = id, #D.people, D.threads do
      own_people[#own_people + 1] = D.people[i]
   end
   for _, op in ipairs(OPS) do
      if op[3] > 0 and not (warmup and op[2] == "write") and not (warmup and op[1]:find("_read$")) then
         total_weight = total_weight + op[3]
         picks[#picks + 1] = { op[1], total_weight }
      end
   end
   out = assert(io.open(os.getenv("LOAD_OUT") .. "/thread-" .. id .. ".tsv", "w"))
   out:setvbuf("full")
end

-- ---- helpers ----------------------------------------------------------------------------------

local function any(list)
   return list[math.random(#list)]
end

local function headers(extra)
   local h = { Authorization = "Bearer " .. os.getenv("LOAD_TOKEN"), Accept = "application/json" }
   for k, v in pairs(extra or {}) do
      h[k] = v
   end
   return h
end

local function get(op, path)
   return { op = op, req = wrk.format("GET", path, headers()) }
end

local function header(hs, name)
   for k, v in pairs(hs) do
      if k:lower() == name then
         return v
      end
   end
end

local function clean(text)
   return ((text or ""):sub(1, 400):gsub("[\t\r\n]", " "))
end

-- ---- the operations ---------------------------------------------------------------------------

local queued -- the PATCH that follows an edit's read, sent next on this connection

local build = {}

build.course_page = function()
   local offset = 50 * math.random(0, math.max(0, math.floor((D.total_courses - 1) / 50)))
   return get("course_page", "/api/v1/courses?limit=50&offset=" .. offset)
end

build.course_search = function()
   return get("course_search", "/api/v1/courses?q=" .. any(D.searches))
end

build.course_detail = function()
   return get("course_detail", "/api/v1/courses/" .. any(D.courses))
end

build.instrument = function()
   return get("instrument", "/api/v1/instruments/" .. any(D.instruments))
end

build.plan_detail = function()
   return get("plan_detail", "/api/v1/plans/" .. any(D.plans))
end

build.plan_validation = function()
   return get("plan_validation", "/api/v1/plans/" .. any(D.plans) .. "/validation")
end

build.coverage_gaps = function()
   return get("coverage_gaps", "/api/v1/coverage/gaps")
end

build.scim_by_number = function()
   return get("scim_by_number", "/scim/v2/Users?filter=" .. D.number_filter .. any(D.people)[1] .. "%22")
end

build.scim_by_family = function()
   return get("scim_by_family", "/scim/v2/Users?count=50&filter=" .. any(D.family_filters))
end

build.transcript = function()
   return get("transcript", "/api/v1/people/" .. any(D.people)[1] .. "/transcript")
end

build.records = function()
   cursor.n = cursor.n + 1
   local key = string.format("load-%s-%d-%d", D.run, id, cursor.n)
   local rows = {}
   for k = 1, BATCH do
      local person = any(own_people)
      rows[k] = string.format(
         '{"person":"%s","course":"%s","completed_on":"2025-%02d-%02d","result":"passed",'
            .. '"grade":"B","hours":8,"source_key":"%s-%d"}',
         person[1],
         any(D.courses),
         math.random(1, 12),
         math.random(1, 28),
         key,
         k
      )
   end
   local body = '{"records":[' .. table.concat(rows, ",") .. "]}"
   local req = wrk.format(
      "POST",
      "/api/v1/records",
      headers({ ["Content-Type"] = "application/json", ["Idempotency-Key"] = key }),
      body
   )
   return { op = "records", req = req, records = BATCH }
end

build.course_read = function()
   cursor.course = cursor.course % #own_courses + 1
   local code = own_courses[cursor.course]
   local spec = get("course_read", "/api/v1/courses/" .. code)
   spec.on_ok = function(hs)
      cursor.n = cursor.n + 1
      local body = string.format(
         '{"assessment":"Written examination (60%%) and a practical case exercise (40%%); load run %s, edit %d-%d."}',
         D.run,
         id,
         cursor.n
      )
      queued = {
         op = "course_patch",
         req = wrk.format(
            "PATCH",
            "/api/v1/courses/" .. code,
            headers({ ["Content-Type"] = "application/json", ["If-Match"] = header(hs, "etag") }),
            body
         ),
      }
   end
   return spec
end

build.person_read = function()
   cursor.person = cursor.person % #own_people + 1
   local scim_id = own_people[cursor.person][2]
   local spec = get("person_read", "/scim/v2/Users/" .. scim_id)
   spec.on_ok = function(hs, body)
      cursor.n = cursor.n + 1
      local change
      if cursor.n % 5 == 0 then -- now and then HR deactivates someone, or brings them back
         local active = body:find('"active"%s*:%s*true') ~= nil
         change = string.format('{"op":"replace","path":"active","value":%s}', tostring(not active))
      else
         change = string.format('{"op":"replace","path":"title","value":"Inspector %d-%d"}', id, cursor.n)
      end
      queued = {
         op = "person_patch",
         req = wrk.format(
            "PATCH",
            "/scim/v2/Users/" .. scim_id,
            headers({ ["Content-Type"] = "application/scim+json", ["If-Match"] = header(hs, "etag") }),
            '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[' .. change .. "]}"
         ),
      }
   end
   return spec
end

-- ---- wrk's hooks ------------------------------------------------------------------------------

local pending -- the request on the wire, waiting for its answer
-- The same as a string, which done() can read (thread:get copies strings safely): a write in
-- flight when wrk stops may still be applied, and the report allows for it.
inflight = ""

local function log(spec, status, us, detail)
   out:write(
      spec.op,
      "\t",
      status,
      "\t",
      string.format("%.0f", us),
      "\t",
      (status >= 200 and status < 400) and (spec.records or 0) or 0,
      "\t",
      detail or "",
      "\n"
   )
end

function request()
   if verifying then
      verifying = false
      return wrk.format("GET", "/healthz", headers())
   end
   if pending then -- wrk reconnected without an answer: the request is lost (status 0)
      log(pending, 0, now_us() - pending.t0, "no answer: the connection closed or failed")
      pending = nil
      inflight = ""
   end
   local spec = queued
   queued = nil
   if spec == nil then
      local r, i = math.random() * total_weight, 1
      while picks[i][2] < r do
         i = i + 1
      end
      spec = build[picks[i][1]]()
   end
   spec.t0 = now_us()
   pending = spec
   inflight = spec.op .. "\t" .. (spec.records or 0)
   return spec.req
end

function response(status, hs, body)
   local spec = pending
   pending = nil
   inflight = ""
   if spec == nil then
      return
   end
   local us = now_us() - spec.t0
   if status >= 200 and status < 400 then
      log(spec, status, us)
      if spec.on_ok then
         spec.on_ok(hs, body)
      end
   else
      log(spec, status, us, clean(body))
   end
end

function done(summary, latency, requests)
   for _, op in ipairs(OPS) do
      io.write("@op\t", op[1], "\t", op[2], "\t", op[4], "\n")
   end
   for _, thread in ipairs(threads) do
      local op = thread:get("inflight")
      if op and op ~= "" then
         io.write("@inflight\t", op, "\n")
      end
   end
   local e = summary.errors
   io.write(
      string.format(
         "@summary\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n",
         summary.duration,
         summary.requests,
         summary.bytes,
         e.connect,
         e.read,
         e.write,
         e.status,
         e.timeout
      )
   )
   io.write(
      string.format(
         "@latency\t%d\t%d\t%d\t%d\t%.0f\n",
         latency:percentile(50),
         latency:percentile(90),
         latency:percentile(99),
         latency.max,
         latency.mean
      )
   )
end
