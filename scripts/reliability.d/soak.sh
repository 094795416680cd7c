#!/usr/bin/env bash
# Soak: a real `tessera serve` process under mixed reads and writes, 15 minutes on SQLite
# then 15 on PostgreSQL (TESSERA_RELIABILITY_SOAK_SECONDS per engine, default 900). Prints
# the Markdown section for docs/RELIABILITY.md; exits non-zero when a trial failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
report=$(mktemp)
trap 'rm -f "$report"' EXIT
export TESSERA_RELIABILITY_REPORT="$report"
export TESSERA_RELIABILITY_SOAK_SECONDS="${TESSERA_RELIABILITY_SOAK_SECONDS:-900}"
status=0
cargo test -q -p tessera-cli --test soak -- --test-threads=1 >&2 || status=$?
cat <<MD
## Soak

A real \`tessera serve\` process (debug build) under mixed reads and writes from 8
clients for ${TESSERA_RELIABILITY_SOAK_SECONDS} s per engine
(\`crates/cli/tests/soak.rs\`). Memory is the process's RSS, read from
\`/proc/PID/status\` at the end of each window; the first window is the warm-up.
Lost writes are acknowledged inserts, not deleted since, missing at the end.

MD
cat "$report"
echo
if [ "$status" -eq 0 ]; then echo "Result: passed."; else echo "Result: FAILED (see the test output)."; fi
exit "$status"
