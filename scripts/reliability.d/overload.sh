#!/usr/bin/env bash
# Overload: floods far beyond the server's limit of requests at once, on SQLite and
# PostgreSQL. Prints the Markdown section for docs/RELIABILITY.md; exits non-zero when a
# trial failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
report=$(mktemp)
trap 'rm -f "$report"' EXIT
export TESSERA_RELIABILITY_REPORT="$report"
export TESSERA_RELIABILITY_OVERLOAD_CLIENTS="${TESSERA_RELIABILITY_OVERLOAD_CLIENTS:-500}"
export TESSERA_RELIABILITY_OVERLOAD_SECONDS="${TESSERA_RELIABILITY_OVERLOAD_SECONDS:-30}"
status=0
cargo test -q -p tessera-server --test overload -- --test-threads=1 >&2 || status=$?
cat <<MD
## Overload

\`crates/server/tests/overload.rs\`: concurrent clients, each reading (3 in 4) and
inserting (1 in 4) as fast as answers come, against a server limited to 8 requests at
once with a 200 ms queue wait. Shed requests must get 503 with \`Retry-After\`; every
answer must come within 10 s; nothing else may fail; service must be normal afterwards.
Latencies are as the clients saw them (debug build; the server and all the clients share
the test's one runtime thread, so the latencies mostly measure that thread's saturation:
what counts is that every answer came within the bound and none failed).

| engine | clients | limit | seconds | answers | served | shed (503) | served p50 (ms) | served p99 (ms) | shed p99 (ms) | slowest (ms) | other errors |
|---|---|---|---|---|---|---|---|---|---|---|---|
MD
grep '^|' "$report" || true
echo
if [ "$status" -eq 0 ]; then echo "Result: passed."; else echo "Result: FAILED (see the test output)."; fi
exit "$status"
