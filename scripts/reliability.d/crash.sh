#!/usr/bin/env bash
# Crash safety: `tessera serve` killed with SIGKILL during inserts, bulk inserts, updates,
# publishing and the startup migration, on SQLite and PostgreSQL, then restarted on the same
# database and checked against what its clients were told (crates/cli/tests/crash).
# Prints the Markdown section of docs/RELIABILITY.md on stdout; the test output goes to
# stderr. Run through scripts/reliability (`scripts/reliability crash`).
#
#   TESSERA_CRASH_TRIALS  trials per workload and engine (default 100, so 200 per workload)
#   TESSERA_CRASH_SEED    the seed of the kill moments (default: from the clock); give the
#                         seed of an earlier run to replay it
set -euo pipefail
cd "$(dirname "$0")/../.."

export TESSERA_CRASH_TRIALS="${TESSERA_CRASH_TRIALS:-100}"
export TESSERA_CRASH_SEED="${TESSERA_CRASH_SEED:-$(date +%s%N)}"
# Both engines or nothing: a missing PostgreSQL fails the run instead of skipping it.
export CI=true
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TESSERA_CRASH_REPORT="$work/figures.jsonl"
touch "$TESSERA_CRASH_REPORT"

status=0
# One test at a time, so that the restart times are not those of a machine running two.
cargo test -p tessera-cli --test crash -- --test-threads=1 --nocapture 2>&1 \
  | tee "$work/output.txt" >&2 || status=1
grep -q '^test result: ok' "$work/output.txt" || status=1

python3 - "$TESSERA_CRASH_REPORT" "$work/output.txt" "$TESSERA_CRASH_SEED" "$TESSERA_CRASH_TRIALS" <<'PY'
import json, re, statistics, sys

report, output, seed, trials = sys.argv[1:]
runs = [json.loads(line) for line in open(report) if line.strip()]
text = open(output).read()
# The summary at the end: "failures:", then the failed tests, indented.
summary = text.rsplit("\nfailures:\n", 1)[1] if "\nfailures:\n" in text else ""
failed = re.findall(r"^    (\S+)$", summary.split("\ntest result:")[0], re.M)
order = ["insert", "bulk insert", "update", "publish", "migration"]
runs.sort(key=lambda r: (order.index(r["workload"]) if r["workload"] in order else 99, r["engine"]))

def ms(values):
    if not values:
        return "-"
    return f"{statistics.median(values):.0f} ms / {max(values)} ms"

print("## Crash safety (kill -9)")
print()
print("`tessera serve` (debug build) killed with SIGKILL at a random moment of each workload,")
print("restarted on the same database, and checked against what its clients were told")
print("(`crates/cli/tests/crash/`): every write answered 2xx there exactly as sent, every write")
print("in flight there whole or not at all, a bulk insert all or nothing, an update on every row")
print("of its group or none, stage holding one publish's copies and the log saying `success`")
print("exactly for the runs whose copies are there, the migration history and the tables")
print("agreeing, and the server serving reads and writes again. Restart: from the process start")
print(f"to `/ready` answering 200. Seed `{seed}` (`TESSERA_CRASH_SEED={seed} TESSERA_CRASH_TRIALS={trials}")
print("scripts/reliability crash` replays the kill moments).")
print()
print("| workload | engine | trials | acknowledged writes checked | in flight at the kill | lost | half-applied | restart, median / max |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for r in runs:
    print(f"| {r['workload']} | {r['engine']} | {r['trials']} | {r['acknowledged']} | {r['in_flight']} | "
          f"{r['lost']} | {r['half_applied']} | {ms(r['restart_ms'])} |")
total = lambda key: sum(r[key] for r in runs)
print(f"| **all** | | {total('trials')} | {total('acknowledged')} | {total('in_flight')} | "
      f"**{total('lost')}** | **{total('half_applied')}** | {ms([t for r in runs for t in r['restart_ms']])} |")
print()
hits = [r for r in runs if r["outcomes"]]
if hits:
    print("Where the kills landed:")
    print()
    for r in hits:
        parts = ", ".join(f"{k}: {v}" for k, v in r["outcomes"].items())
        print(f"- {r['workload']} on {r['engine']}: {parts}")
    print()
# Violations of one kind, told apart only by their numbers, are listed once with a count.
kinds = {}
for r in runs:
    for v in r["violations"]:
        kind = (r["workload"], r["engine"], re.sub(r"\d+", "N", v.split(": ", 1)[-1]))
        kinds.setdefault(kind, []).append(v)
if kinds or failed:
    print("**Failures**")
    print()
    for test in failed:
        print(f"- test `{test}` failed")
    for (workload, engine, _), found in kinds.items():
        times = f" ({len(found)} times, the first shown)" if len(found) > 1 else ""
        print(f"- {workload} on {engine}{times}: {found[0]}")
else:
    print("Nothing lost, nothing half-applied, every restart clean.")
PY
exit $status
