#!/usr/bin/env bash
# Compares the data API of two versions of Tessera side by side, in one sitting, and
# records the result in the "Before and after" section of docs/BENCHMARKS.md.
#
# Usage: bench/compare.sh BASE_REV [ROUNDS]
#   BASE_REV  a git revision (commit, tag, branch) to compare the working tree against
#   ROUNDS    runs of each workload per version, alternating (default 3; the median counts)
#
# Both versions serve the tour builder from fresh databases at the same time (SQLite, and
# PostgreSQL unless BENCH_PG_URL=skip); each workload then runs against one version and the
# other in turn, so both see the same machine. Each version serves its own tour builder
# schema (the workloads use the service key, which no access rule restricts). BENCH_SECONDS and BENCH_CONNECTIONS as in
# bench/run.sh. The base is built in release mode under target/bench-base/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BASE_REV=${1:?usage: bench/compare.sh BASE_REV [ROUNDS]}
ROUNDS=${2:-3}
SECONDS_PER_RUN=${BENCH_SECONDS:-8}
CONNECTIONS=${BENCH_CONNECTIONS:-16}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
KEY=bench-service-key-$(date +%s)
SCHEMA=apps/tour-builder/schema.tsr
OUT=docs/BENCHMARKS.md
WORK=$(mktemp -d)
PIDS=()
BASE_TREE=$ROOT/target/bench-base/tree
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  git worktree remove --force "$BASE_TREE" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck source=bench/lib.sh
source bench/lib.sh
ensure_wrk

base_commit=$(git rev-parse --short "$BASE_REV^{commit}")
head_commit=$(git rev-parse --short HEAD)
if ! git diff --quiet HEAD; then head_commit="$head_commit (with uncommitted changes)"; fi

echo "bench: building the working tree (release)" >&2
cargo build --release -q -p tessera-cli
cargo build --release -q -p tessera-server --example bench_driver
DRIVER=target/release/examples/bench_driver
HEAD_BIN=$WORK/tessera-head
cp target/release/tessera "$HEAD_BIN"

echo "bench: building $BASE_REV ($base_commit) (release)" >&2
git worktree remove --force "$BASE_TREE" >/dev/null 2>&1 || true
mkdir -p "$(dirname "$BASE_TREE")"
git worktree add -q --detach "$BASE_TREE" "$base_commit"
CARGO_TARGET_DIR=$ROOT/target/bench-base/target cargo build --release -q -p tessera-cli \
  --manifest-path "$BASE_TREE/Cargo.toml"
BASE_BIN=$WORK/tessera-base
cp "$ROOT/target/bench-base/target/release/tessera" "$BASE_BIN"

RESULTS=$WORK/compare.tsv
: >"$RESULTS"

compare_engine() { # ENGINE BASE_URL HEAD_URL
  local engine=$1 base_pid base_port base_project head_pid head_port head_project
  read -r base_pid base_port base_project < <(start_seeded_server "$BASE_BIN" "$2" "$WORK/base-$engine.log" "$BASE_TREE/$SCHEMA")
  PIDS+=("$base_pid")
  read -r head_pid head_port head_project < <(start_seeded_server "$HEAD_BIN" "$3" "$WORK/head-$engine.log")
  PIDS+=("$head_pid")
  for w in "${WORKLOADS[@]}"; do
    for round in $(seq 1 "$ROUNDS"); do
      for version in base head; do
        local port project
        if [ $version = base ]; then port=$base_port project=$base_project; else port=$head_port project=$head_project; fi
        define_workloads "$project"
        echo "bench: $engine $w $version (round $round)" >&2
        local script result
        script=$(lua "$engine-$w-$version" "${METHOD[$w]}" "${URL_PATH[$w]}" "${BODY[$w]}")
        result=$(run_wrk "$script" "http://127.0.0.1:$port")
        echo -e "$engine\t$w\t$version\t$result" >>"$RESULTS"
      done
    done
  done
  kill "$base_pid" "$head_pid" 2>/dev/null || true
  wait "$base_pid" "$head_pid" 2>/dev/null || true
}

compare_engine sqlite "sqlite://$WORK/base.db?mode=rwc" "sqlite://$WORK/head.db?mode=rwc"
base_pg=$(fresh_pg_database tessera_bench_base)
head_pg=$(fresh_pg_database tessera_bench_head)
if [ -n "$base_pg" ] && [ -n "$head_pg" ]; then
  compare_engine postgres "$base_pg" "$head_pg"
fi
drop_pg_database tessera_bench_base
drop_pg_database tessera_bench_head

python3 - "$RESULTS" "$OUT" "$base_commit" "$head_commit" "$ROUNDS" "$SECONDS_PER_RUN" "$CONNECTIONS" <<'PY'
import sys, statistics, datetime, platform, subprocess, pathlib
results, out, base, head, rounds, secs, conns = sys.argv[1:]
names = {"read_one": "read one row by key", "list_50": "list 50 rows, filter + order",
         "embed": "list 10 rows + embedded to-many", "insert": "insert one row (validated)",
         "update": "update one row"}
runs = {}
order = []
for line in open(results):
    engine, w, version, rps, p50, p99, errors = line.split()
    key = (engine, w)
    if key not in runs:
        runs[key] = {"base": [], "head": []}
        order.append(key)
    runs[key][version].append((float(rps), float(p99), int(errors)))
def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
lines = ["<!-- compare:begin -->", "## Before and after\n",
         f"Written by `bench/compare.sh {base}`: `{base}` (before) against `{head}` (after), both serving "
         f"the same workloads from fresh databases at the same time, alternating, {rounds} runs of each; "
         "the median counts.\n",
         f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
         f"- machine: {sh('nproc')} cores, {cpu}, {platform.system()} {platform.release()}",
         f"- load: wrk, 2 threads, {conns} connections, {secs} s per run\n",
         "| engine | workload | before req/s | after req/s | after ÷ before | before p99 ms | after p99 ms | non-2xx before / after |",
         "|---|---|---:|---:|---:|---:|---:|---:|"]
slower = []
for key in order:
    engine, w = key
    b, h = runs[key]["base"], runs[key]["head"]
    b_rps = statistics.median(r for r, _, _ in b); h_rps = statistics.median(r for r, _, _ in h)
    b_p99 = statistics.median(p for _, p, _ in b); h_p99 = statistics.median(p for _, p, _ in h)
    ratio = h_rps / b_rps if b_rps else float("nan")
    if ratio < 0.9:
        slower.append(f"{engine} {names.get(w, w)} ({ratio:.2f}×)")
    lines.append(f"| {engine} | {names.get(w, w)} | {b_rps:,.0f} | {h_rps:,.0f} | {ratio:.2f}× | {b_p99} | {h_p99} | "
                 f"{sum(e for _, _, e in b)} / {sum(e for _, _, e in h)} |")
lines.append("")
lines.append("Slower by more than a tenth: " + (", ".join(slower) if slower else "none") + ".")
lines.append("<!-- compare:end -->")
block = "\n".join(lines)
path = pathlib.Path(out)
text = path.read_text() if path.exists() else "# Benchmarks\n"
begin, end = "<!-- compare:begin -->", "<!-- compare:end -->"
if begin in text and end in text:
    head_text, rest = text.split(begin, 1)
    text = head_text + block + rest.split(end, 1)[1]
else:
    text = text.rstrip() + "\n\n" + block + "\n"
path.write_text(text)
print(block)
PY
echo "bench: wrote the comparison into $OUT" >&2
