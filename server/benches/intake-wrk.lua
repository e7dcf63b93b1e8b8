-- wrk script for the intake bench (`BENCH_LOAD=wrk cargo bench -p kudakyar --bench intake`):
-- each request a citizen's JSON report without photo, with a fresh UUID, at a
-- random junction of ten cities (the same ones as the in-process clients).
-- wrk counts answers outside 2xx/3xx as errors; the bench requires none.

local cities = {
  {35.6892, 51.3890}, {36.2972, 59.6067}, {32.6539, 51.6660}, {35.8400, 50.9391},
  {29.5918, 52.5837}, {38.0800, 46.2919}, {31.3183, 48.6706}, {34.6399, 50.8759},
  {34.3142, 47.0650}, {29.4963, 60.8629},
}
local hex = "0123456789abcdef"

-- A distinct seed per thread: wrk starts each thread's Lua state alike.
function setup(thread)
  thread:set("seed", math.random(1, 2^31))
end

function init(args)
  math.randomseed(seed or os.time())
end

local function uuid()
  local t = {}
  for i = 1, 32 do
    local n = math.random(1, 16)
    if i == 13 then n = 5 end          -- version 4
    if i == 17 then n = 9 + (n % 4) end -- variant 10xx
    t[#t + 1] = hex:sub(n, n)
  end
  local s = table.concat(t)
  return s:sub(1, 8) .. "-" .. s:sub(9, 12) .. "-" .. s:sub(13, 16) .. "-" .. s:sub(17, 20) .. "-" .. s:sub(21, 32)
end

function request()
  local c = cities[math.random(1, #cities)]
  local body = string.format(
    '{"id":"%s","lat":%.6f,"lng":%.6f,"accuracy_m":15.0,"children_count":%d,' ..
    '"age_bands":["6-11"],"activity":"street_vending","description":"کودک سر چهارراه دستمال می‌فروشد"}',
    uuid(), c[1] + (math.random() - 0.5) * 0.1, c[2] + (math.random() - 0.5) * 0.1, math.random(1, 3))
  return wrk.format("POST", "/api/v1/sightings", {["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  io.write(string.format("wrk: %d requests, %d errors, p50 %.1f ms, p95 %.1f ms, p99 %.1f ms\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
