# Shared by bench/run.sh and bench/compare.sh: waiting for a server, running wrk, the
# workloads' Lua scripts and their requests. Expects WORK, KEY, CONNECTIONS and
# SECONDS_PER_RUN to be set by the sourcing script.

# Installs wrk with apt-get when it is missing.
ensure_wrk() {
  if ! command -v wrk >/dev/null; then
    echo "bench: installing wrk" >&2
    (apt-get install -y wrk || (apt-get update && apt-get install -y wrk)) >/dev/null
  fi
  command -v wrk >/dev/null || { echo "bench: wrk is missing and could not be installed" >&2; exit 1; }
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_http() { # URL
  for _ in $(seq 1 300); do
    curl -fs "$1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "bench: $1 did not come up" >&2
  return 1
}

# wrk LUA_SCRIPT URL -> "rps p50_ms p99_ms non2xx"
run_wrk() {
  local out
  out=$(wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -s "$1" "$2") ||
    { echo "bench: wrk failed against $2" >&2; return 1; }
  echo "$out" >>"$WORK/wrk.log"
  local rps p50 p99 errors
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errors=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  echo "$rps $(to_ms "$p50") $(to_ms "$p99") ${errors:-0}"
}

to_ms() { # 1.23ms / 456.00us / 1.2s -> milliseconds
  python3 -c '
import sys, re
v = sys.argv[1]
m = re.match(r"([0-9.]+)(us|ms|s)", v)
if not m: print("nan"); sys.exit()
n, u = float(m.group(1)), m.group(2)
print(round(n / 1000 if u == "us" else n * 1000 if u == "s" else n, 3))' "$1"
}

lua() { # NAME METHOD PATH BODY_TEMPLATE -> script path
  local file="$WORK/$1.lua"
  cat >"$file" <<LUA
-- tid is a global set per thread by setup() (a local would hide it).
local counter = 0
local n = 0
setup = function(thread) n = n + 1; thread:set("tid", n) end
init = function(args) math.randomseed(os.time() + (tid or 0) * 7919) end
request = function()
  counter = counter + 1
  local body = nil
  local template = [[$4]]
  if template ~= "" then
    body = string.gsub(template, "UNIQUE", string.format("%d-%d-%d", tid or 0, counter, math.random(1000000000)))
  end
  local headers = { ["Authorization"] = "Bearer $KEY", ["Content-Type"] = "application/json" }
  return wrk.format("$2", [[$3]], headers, body)
end
LUA
  echo "$file"
}

# The five workloads against a seeded server: fills the arrays WORKLOADS, METHOD, URL_PATH
# and BODY for PROJECT (the seeded project's id).
declare -a WORKLOADS=(read_one list_50 embed insert update)
declare -A METHOD URL_PATH BODY
define_workloads() { # PROJECT
  local project=$1
  METHOD[read_one]=GET;   URL_PATH[read_one]="/rest/v1/projects?id=eq.$project"; BODY[read_one]=""
  METHOD[list_50]=GET;    URL_PATH[list_50]="/rest/v1/tour_pages?projectId=eq.$project&environment=eq.dev&order=sort_order.asc&limit=50"; BODY[list_50]=""
  METHOD[embed]=GET;      URL_PATH[embed]="/rest/v1/projects?select=id,name,slug,tour_pages_project(id,name,slug)&order=slug&limit=10"; BODY[embed]=""
  METHOD[insert]=POST;    URL_PATH[insert]="/rest/v1/tour_pages"; BODY[insert]="{\"projectId\":\"$project\",\"name\":\"Bench page\",\"slug\":\"bench-UNIQUE\"}"
  METHOD[update]=PATCH;   URL_PATH[update]="/rest/v1/projects?id=eq.$project"; BODY[update]="{\"description\":\"Updated UNIQUE\"}"
}

# Starts `BINARY serve` on DATABASE_URL, waits for it and seeds it; prints "PID PORT PROJECT".
start_seeded_server() { # BINARY DATABASE_URL LOG [SCHEMA_FILE]
  local port pid project
  port=$(free_port)
  TESSERA_SERVICE_KEY=$KEY RUST_LOG=warn "$1" serve "${4:-$SCHEMA}" --database-url "$2" --listen "127.0.0.1:$port" \
    >"$3" 2>&1 &
  pid=$!
  wait_http "http://127.0.0.1:$port/ready"
  project=$($DRIVER seed "http://127.0.0.1:$port" "$KEY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["project"])')
  echo "$pid $port $project"
}

# A fresh PostgreSQL database NAME next to PG_URL's; prints its URL, or nothing when
# PostgreSQL is not reachable.
fresh_pg_database() { # NAME
  if [ "$PG_URL" = skip ] || ! psql "$PG_URL" -Atc 'select 1' >/dev/null 2>&1; then return 0; fi
  psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null
  psql "$PG_URL" -qc "CREATE DATABASE $1" >/dev/null
  echo "${PG_URL%/*}/$1"
}

drop_pg_database() { # NAME
  psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null 2>&1 || true
}
