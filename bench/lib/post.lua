-- wrk script for scripts/bench: POST the adder call and check every answer.
--
-- Environment: BENCH_AUTH   a JWT sent as "Authorization: Bearer ..." (optional)
--              BENCH_EXPECT the exact body a 2xx answer must carry (optional)
--              BENCH_BODY   the request body instead of the adder call (optional)
--
-- done() prints one "BENCH k=v ..." line that bench.py parses; answers that
-- are not 2xx, and 2xx answers with another body, are counted per thread in
-- response() and summed over the threads in done().

wrk.method = "POST"
wrk.body = '{"params":{"num1":10,"num2":20}}'
local body = os.getenv("BENCH_BODY")
if body ~= nil and body ~= "" then
	wrk.body = body		-- e.g. the same call through GraphQL
end
wrk.headers["Content-Type"] = "application/json"

local auth = os.getenv("BENCH_AUTH")
if auth ~= nil and auth ~= "" then
	wrk.headers["Authorization"] = "Bearer " .. auth
end
local expect = os.getenv("BENCH_EXPECT") or ""

-- per thread (globals, so that done() can read them with thread:get)
non2xx = 0
badbody = 0
firstbad = ""

function response(status, headers, body)
	if status < 200 or status > 299 then
		non2xx = non2xx + 1
	elseif expect ~= "" and body ~= expect then
		badbody = badbody + 1
	else
		return
	end
	if firstbad == "" then
		firstbad = tostring(status) .. " " .. string.sub(body or "", 1, 160)
	end
end

local threads = {}

function setup(thread)
	table.insert(threads, thread)
end

function done(summary, latency, requests)
	local n, b, fb = 0, 0, ""
	for _, t in ipairs(threads) do
		n = n + (t:get("non2xx") or 0)
		b = b + (t:get("badbody") or 0)
		local f = t:get("firstbad")
		if fb == "" and f ~= nil then fb = f end
	end
	local e = summary.errors
	io.write(string.format(
	    "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
	    "connect=%d read=%d write=%d status=%d timeout=%d non2xx=%d badbody=%d\n",
	    summary.requests, summary.duration,
	    latency:percentile(50.0), latency:percentile(90.0),
	    latency:percentile(99.0), latency.max,
	    e.connect, e.read, e.write, e.status, e.timeout, n, b))
	if fb ~= "" then
		io.write("BENCH-FIRSTBAD " .. (string.gsub(fb, "[\r\n]", " ")) .. "\n")
	end
end
