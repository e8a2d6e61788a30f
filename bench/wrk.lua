-- wrk script of bench/load.py: random paths from a file, a bearer token, a JSON summary.
--   wrk -t1 -c8 -d5s -s bench/wrk.lua http://127.0.0.1:8000 -- paths.txt TOKEN
local paths = {}

function init(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  if args[2] and args[2] ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. args[2]
  end
  math.randomseed(os.time() + tonumber(tostring(paths):match("0x(%x+)") or "0", 16))
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, "failed": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3,
    errors.connect + errors.read + errors.write + errors.status + errors.timeout))
end
