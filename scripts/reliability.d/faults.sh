#!/usr/bin/env bash
# Database faults under load: PostgreSQL restarted and crashed on a private cluster,
# connections killed, SQLite on a full disk and opened read-only. Prints the Markdown
# section for docs/RELIABILITY.md; exits non-zero when a trial failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
report=$(mktemp)
trap 'rm -f "$report"' EXIT
export TESSERA_RELIABILITY_REPORT="$report"
export TESSERA_RELIABILITY_FAULT_TRIALS="${TESSERA_RELIABILITY_FAULT_TRIALS:-10}"
export TESSERA_RELIABILITY_FAULT_DOWNTIME_SECONDS="${TESSERA_RELIABILITY_FAULT_DOWNTIME_SECONDS:-8}"
export TESSERA_RELIABILITY_FAULT_KILL_SECONDS="${TESSERA_RELIABILITY_FAULT_KILL_SECONDS:-60}"
status=0
cargo test -q -p tessera-server --test faults -- --test-threads=1 >&2 || status=$?
cat <<MD
## Database faults

\`crates/server/tests/faults.rs\`, ${TESSERA_RELIABILITY_FAULT_TRIALS} trials each. While
the database cannot serve, every request must be answered (503 with \`Retry-After\`, 507
for a full disk, PostgREST's body) within 15 s, never 500; \`/ready\` must say 503; the
server must write again on its own once the database is back; no acknowledged write may
be lost. PostgreSQL restarts run on a private, durable cluster (fsync and synchronous
commit on), never on the shared server.

MD
cat "$report"
echo
if [ "$status" -eq 0 ]; then echo "Result: passed."; else echo "Result: FAILED (see the test output)."; fi
exit "$status"
