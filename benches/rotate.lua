-- wrk script: POSTs the lines of the file $REQUESTS (sealed JSON envelopes, one per line) to
-- $REQUEST_PATH in turn, so every request is a distinct one. Used by envelopes.sh, perf.py and
-- workers_cpu.sh.
local requests = {}
for line in io.lines(os.getenv("REQUESTS")) do requests[#requests + 1] = line end
local path = os.getenv("REQUEST_PATH")
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % #requests + 1
  return wrk.format(nil, path, nil, requests[i])
end
