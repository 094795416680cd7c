#!/usr/bin/env bash
# Access rules: the property test of crates/runtime/tests/rules_oracle.rs in its long form.
# Random multi-tenant worlds and random operations by random callers run on the engine and
# on an oracle that evaluates every rule of the test schema by hand; every answer, every
# refusal and, after each write, the whole database must agree. Runs on SQLite and
# PostgreSQL; prints the Markdown section of docs/RELIABILITY.md on stdout (the test output
# goes to stderr); exits non-zero when the engine and the oracle disagreed.
#
#   TESSERA_RULES_CASES       cases per engine (default 500)
#   TESSERA_RULES_OPERATIONS  operations per case (default 100, so 100,000 in all)
#   TESSERA_RULES_SEED        the seed (default: from the clock); give the seed of an earlier
#                             run to replay it
set -euo pipefail
cd "$(dirname "$0")/../.."

export TESSERA_RULES_CASES="${TESSERA_RULES_CASES:-500}"
export TESSERA_RULES_OPERATIONS="${TESSERA_RULES_OPERATIONS:-100}"
export TESSERA_RULES_SEED="${TESSERA_RULES_SEED:-$(date +%s%N)}"
# Both engines or nothing: a missing PostgreSQL fails the run instead of skipping it.
export CI=true
# PostgreSQL: the local server when it answers (each case gets a throwaway database of its
# own there), else the test support's throwaway cluster.
if [ -z "${TESSERA_TEST_DATABASE_URL:-}" ] && command -v pg_isready >/dev/null 2>&1 \
    && pg_isready -q -h 127.0.0.1 -p 5432; then
  export TESSERA_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TESSERA_RULES_REPORT="$work/figures.jsonl"
touch "$TESSERA_RULES_REPORT"

status=0
cargo test -p tessera-runtime --test rules_oracle -- --nocapture 2>&1 \
  | tee "$work/output.txt" >&2 || status=1
grep -q '^test result: ok' "$work/output.txt" || status=1

python3 - "$TESSERA_RULES_REPORT" "$work/output.txt" "$TESSERA_RULES_SEED" \
  "$TESSERA_RULES_CASES" "$TESSERA_RULES_OPERATIONS" <<'PY'
import json, re, sys

report, output, seed, cases, operations = sys.argv[1:]
runs = [json.loads(line) for line in open(report) if line.strip()]
runs.sort(key=lambda r: r["engine"])
text = open(output).read()

print("## Access rules (oracle)")
print()
print("`crates/runtime/tests/rules_oracle.rs`: proptest builds a world of 3 or 4 tenants, users")
print("in one or several of them as admins, members or guests, roles holding permissions through")
print("data, projects with members at levels (owner, editor, viewer), pages, feedback, some rows")
print("and memberships in the trash, and runs random operations by random callers (the service,")
print("anonymous callers and users, with or without an `X-Tenant` naming a tenant they may or may")
print("not belong to): filtered, counted and paged reads with to-one and to-many embeds, single")
print("and bulk inserts, updates (some moving rows to another tenant, project or user) and")
print("deletes. An oracle written apart from the engine evaluates each rule of the test schema by")
print("hand for each row and caller and predicts every answer: the rows (inside embeds too), the")
print("count, the refusals (401, 403, 422), the rows written, and after each write the whole")
print("database as the service reads it. A disagreement fails the run; a leak is one where the")
print("engine showed or wrote more than the rules grant.")
print()
print(f"{cases} cases of {operations} operations per engine, seed `{seed}`: both engines run the")
print("same worlds and operations, so their figures are the same where they agree")
print(f"(`TESSERA_RULES_SEED={seed} TESSERA_RULES_CASES={cases} TESSERA_RULES_OPERATIONS={operations}")
print("scripts/reliability rules` replays it).")
print()
print("| engine | cases | operations | reads (embeds, counts) | inserts (bulk) | updates (moves) | deletes | refused 401 / 403 / 422 | reads and writes granted to callers | rows compared | disagreements | leaks | time |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
def row(name, r):
    return (f"| {name} | {r['cases']} | {r['operations']} | {r['reads']} ({r['embeds']}, {r['counts']}) | "
            f"{r['inserts']} ({r['bulk_inserts']}) | {r['updates']} ({r['moves']}) | {r['deletes']} | "
            f"{r['refused_401']} / {r['refused_403']} / {r['refused_422']} | "
            f"{r['granted_reads']} / {r['granted_writes']} | {r['rows_compared']} | "
            f"**{r['disagreements']}** | **{r['leaks']}** | {r['seconds']:.0f} s |")
for r in runs:
    print(row(r["engine"], r))
if runs:
    total = {k: sum(r[k] for r in runs) for k in runs[0] if isinstance(runs[0][k], (int, float)) and k != "seed"}
    print(row("**all**", total))
print()
engines = {r["engine"] for r in runs}
failures = re.findall(r"the engine and the oracle disagree on (\w+) \(seed \d+\): Test failed: (.*)", text)
if failures:
    print("**Disagreements**")
    print()
    for engine, first in failures:
        print(f"- on {engine}: {first[:600]}")
elif len(engines) < 2:
    print("**The run did not complete on both engines** (see the test output).")
else:
    print("The engine and the oracle agreed on every operation: nothing leaked.")
PY
exit $status
