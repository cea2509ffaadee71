-- Replays pre-signed requests for bench_webhook_ingest.py: WRK_REQUESTS names a file with one
-- request a line (hex body, then header name/value pairs, tab-separated). Each request is sent
-- once, in order; without a file (the /healthz floor) every request is a plain GET.
local requests = {}
local next_index = 1

local function unhex(s)
  return (s:gsub("..", function(cc) return string.char(tonumber(cc, 16)) end))
end

function init(args)
  local name = os.getenv("WRK_REQUESTS")
  if name == nil or name == "" then return end
  for line in io.lines(name) do
    local fields = {}
    for field in line:gmatch("[^\t]+") do table.insert(fields, field) end
    local headers = {}
    for i = 2, #fields - 1, 2 do headers[fields[i]] = fields[i + 1] end
    table.insert(requests, wrk.format("POST", nil, headers, unhex(fields[1])))
  end
end

function request()
  if #requests == 0 then return wrk.format("GET") end
  local r = requests[next_index]
  next_index = next_index + 1
  if next_index > #requests then next_index = 1 end  -- more than the file: the bench says so
  return r
end
