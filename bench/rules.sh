#!/usr/bin/env bash
# Measures what the access rules cost: the same reads as the service key (no rule applies)
# and as a project editor of the tour builder (each row is reached through the membership
# rules: `project.project_memberships_project.some(user == auth && is_active && ...)`, the
# editor's role and custom permissions), alternating, in one sitting. Records the result in
# the "Cost of access rules" section of docs/BENCHMARKS.md.
#
# Usage: bench/rules.sh [ROUNDS]   (default 3; the median counts)
# BENCH_SECONDS, BENCH_CONNECTIONS and BENCH_PG_URL as in bench/run.sh (BENCH_PG_URL=skip:
# SQLite only). Builds in release mode; needs wrk (installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECONDS_PER_RUN=${BENCH_SECONDS:-8}
CONNECTIONS=${BENCH_CONNECTIONS:-16}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
KEY=bench-service-key-$(date +%s)
SCHEMA=apps/tour-builder/schema.tsr
OUT=docs/BENCHMARKS.md
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "bench: building (release)" >&2
cargo build --release -q -p tessera-cli
cargo build --release -q -p tessera-server --example bench_driver
DRIVER=target/release/examples/bench_driver

# shellcheck source=bench/lib.sh
source bench/lib.sh
ensure_wrk

RESULTS=$WORK/rules.tsv
: >"$RESULTS"

# An editor of PROJECT, signed in: prints their access token.
editor_token() { # API PROJECT
  local api=$1 project=$2 email user
  email="editor-$(date +%s%N)@bench.test"
  user=$(curl -fsS "$api/auth/v1/signup" -H 'content-type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"bench-password\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["user"]["id"])')
  curl -fsS "$api/rest/v1/project_memberships" -H "authorization: Bearer $KEY" \
    -H 'content-type: application/json' \
    -d "{\"projectId\":\"$project\",\"userId\":\"$user\",\"access_level\":\"editor\",\"is_active\":true}" >/dev/null
  curl -fsS "$api/auth/v1/token?grant_type=password" -H 'content-type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"bench-password\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

bench_engine() { # ENGINE DATABASE_URL
  local engine=$1 url=$2 pid port project api token
  read -r pid port project < <(start_seeded_server target/release/tessera "$url" "$WORK/serve-$engine.log")
  PIDS+=("$pid")
  api="http://127.0.0.1:$port"
  token=$(editor_token "$api" "$project")
  define_workloads "$project"
  for w in read_one list_50; do
    # The editor must see exactly what the service key sees, or the comparison is void.
    local as_service as_editor
    as_service=$(curl -fsS "$api${URL_PATH[$w]}" -H "authorization: Bearer $KEY" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
    as_editor=$(curl -fsS "$api${URL_PATH[$w]}" -H "authorization: Bearer $token" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
    if [ "$as_service" != "$as_editor" ] || [ "$as_service" = 0 ]; then
      echo "bench: $engine $w: the editor reads $as_editor rows, the service key $as_service" >&2
      exit 1
    fi
    local service_script editor_script
    service_script=$(lua "$engine-$w-service" GET "${URL_PATH[$w]}" "")
    editor_script=$(KEY=$token lua "$engine-$w-editor" GET "${URL_PATH[$w]}" "")
    for round in $(seq 1 "$ROUNDS"); do
      echo "bench: $engine $w without rules (round $round)" >&2
      echo -e "$engine\t$w\tservice\t$(run_wrk "$service_script" "$api")" >>"$RESULTS"
      echo "bench: $engine $w as an editor (round $round)" >&2
      echo -e "$engine\t$w\teditor\t$(run_wrk "$editor_script" "$api")" >>"$RESULTS"
    done
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

bench_engine sqlite "sqlite://$WORK/bench.db?mode=rwc"
pg_url=$(fresh_pg_database tessera_bench_rules)
if [ -n "$pg_url" ]; then
  bench_engine postgres "$pg_url"
  drop_pg_database tessera_bench_rules
fi

MACHINE="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -sr)"
SECTION=$(
  python3 - "$RESULTS" "$ROUNDS" "$SECONDS_PER_RUN" "$CONNECTIONS" "$MACHINE" <<'PY'
import statistics, sys, datetime
path, rounds, seconds, connections, machine = sys.argv[1:6]
runs = {}
for line in open(path):
    engine, workload, who, measured = line.rstrip("\n").split("\t")
    rps, p50, p99, errors = measured.split()
    runs.setdefault((engine, workload), {}).setdefault(who, []).append((float(rps), float(p99), int(errors)))
names = {"read_one": "read one project by key", "list_50": "list 50 pages, filter + order"}
out = ["## Cost of access rules", "",
       "Written by `bench/rules.sh`: the tour builder served once per engine; each workload run as the service key (no rule applies) and as a project editor (every row reached through the membership rules, the editor's role and custom permissions), alternating, "
       f"{rounds} runs of each; the median counts. Both callers read the same rows.", "",
       f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
       f"- machine: {machine}",
       f"- load: wrk, 2 threads, {connections} connections, {seconds} s per run", "",
       "| engine | workload | service key req/s | editor req/s | editor ÷ service | service p99 ms | editor p99 ms | non-2xx |",
       "|---|---|---:|---:|---:|---:|---:|---:|"]
over = []
for (engine, workload), by in runs.items():
    s = statistics.median(r[0] for r in by["service"]); e = statistics.median(r[0] for r in by["editor"])
    sp = statistics.median(r[1] for r in by["service"]); ep = statistics.median(r[1] for r in by["editor"])
    errors = sum(r[2] for r in by["service"] + by["editor"])
    ratio = e / s
    cost = 1 / ratio - 1
    if cost > 0.30:
        over.append(f"{engine} {names[workload]} ({cost:.0%} more per request)")
    out.append(f"| {engine} | {names[workload]} | {s:,.0f} | {e:,.0f} | {ratio:.2f}× | {sp} | {ep} | {errors} |")
out.append("")
out.append("Rules costing more than 30% per request: " + (", ".join(over) if over else "none") + ".")
print("\n".join(out))
PY
)
echo "$SECTION"
python3 - "$OUT" "$SECTION" <<'PY'
import sys, re
path, section = sys.argv[1:3]
text = open(path).read()
block = "<!-- rules:begin -->\n" + section + "\n<!-- rules:end -->"
if "<!-- rules:begin -->" in text:
    text = re.sub(r"<!-- rules:begin -->.*?<!-- rules:end -->", lambda _: block, text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
open(path, "w").write(text)
PY
echo "bench: wrote the cost of access rules into $OUT" >&2
