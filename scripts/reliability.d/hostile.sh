#!/usr/bin/env bash
# Hostile input: the limit attacks at a live `tessera serve` on SQLite and PostgreSQL,
# schemathesis against /openapi.json of every bundled app on both engines (with the
# service key and anonymously), and the fuzz targets under fuzz/ when cargo-fuzz and a
# nightly toolchain are there. Prints the Markdown section for docs/RELIABILITY.md; exits
# non-zero when an attack was not answered as it must be, schemathesis found a 5xx or a
# nonconformance, or a fuzz target crashed.
#
# Knobs: TESSERA_RELIABILITY_SCHEMATHESIS_EXAMPLES (default 2 per operation),
# TESSERA_RELIABILITY_SCHEMATHESIS_SEED, TESSERA_RELIABILITY_FUZZ_SECONDS (default 120
# per target, 0 to skip).
set -euo pipefail
cd "$(dirname "$0")/../.."
attacks=$(mktemp)
apis=$(mktemp)
fuzzlog=$(mktemp)
trap 'rm -f "$attacks" "$apis" "$fuzzlog"' EXIT
status=0

./scripts/ensure-tools --schemathesis >&2 || true
# PostgreSQL: the local server when it answers (each run gets a throwaway database of its
# own there), else the test support's throwaway cluster.
if [ -z "${TESSERA_TEST_DATABASE_URL:-}" ] && command -v pg_isready >/dev/null 2>&1 \
    && pg_isready -q -h 127.0.0.1 -p 5432; then
  export TESSERA_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres
fi

TESSERA_RELIABILITY_REPORT="$attacks" \
  cargo test -q -p tessera-cli --test hostile -- --test-threads=1 >&2 || status=1

examples="${TESSERA_RELIABILITY_SCHEMATHESIS_EXAMPLES:-2}"
started=$(date +%s)
TESSERA_RELIABILITY_REPORT="$apis" \
TESSERA_RELIABILITY_SCHEMATHESIS_APPS=all \
TESSERA_RELIABILITY_SCHEMATHESIS_ENGINES=sqlite,postgres \
TESSERA_RELIABILITY_SCHEMATHESIS_CALLERS=service,anonymous \
TESSERA_RELIABILITY_SCHEMATHESIS_EXAMPLES="$examples" \
  cargo test -q -p tessera-cli --test schemathesis -- --nocapture >&2 || status=1
schemathesis_seconds=$(( $(date +%s) - started ))
schemathesis_version=$(target/schemathesis-venv/bin/schemathesis --version 2>/dev/null || echo "schemathesis missing")

fuzz_seconds="${TESSERA_RELIABILITY_FUZZ_SECONDS:-120}"
fuzz_rows=""
fuzz_note=""
if [ "$fuzz_seconds" -gt 0 ]; then
  ./scripts/ensure-tools --fuzz >&2 || true
  if cargo +nightly --version >/dev/null 2>&1 && cargo fuzz --version >/dev/null 2>&1; then
    for target in query_string json_body; do
      result="ok"
      if ! (cd fuzz && CARGO_TARGET_DIR="$PWD/../target/fuzz" cargo +nightly fuzz run -O "$target" \
              -- -max_total_time="$fuzz_seconds" -rss_limit_mb=2048) >"$fuzzlog" 2>&1; then
        result="CRASHED (see fuzz/artifacts/$target)"
        status=1
      fi
      runs=$(grep -Eo 'Done [0-9]+ runs' "$fuzzlog" | grep -Eo '[0-9]+' | tail -1 || true)
      cov=$(grep -Eo 'cov: [0-9]+' "$fuzzlog" | tail -1 | grep -Eo '[0-9]+' || true)
      fuzz_rows+="| \`$target\` | ${fuzz_seconds} | ${runs:-?} | ${cov:-?} | $result |"$'\n'
    done
  else
    fuzz_note="cargo-fuzz or a nightly toolchain is missing here: the fuzz targets did not run."
  fi
fi

cat <<MD
## Hostile input

Every malformed or abusive request must get a 4xx in PostgREST's body shape (or, past the
HTTP parser's own bounds, the same status with no body), within a second, without the
server's memory growing by more than 64 MiB, and the server must serve normally after it.
The limits, all checked before any database work, are \`tessera serve\` flags
(\`--max-url-length\`, \`--max-header-count\`, \`--max-header-bytes\`, \`--body-limit\`,
\`--max-json-depth\`, \`--max-body-rows\`, \`--max-in-items\`, \`--max-logic-depth\`,
\`--max-embed-depth\`; \`docs/api.md\` lists them all).

#### Attacks on a live server

\`crates/cli/tests/hostile.rs\`: a real \`tessera serve --app tour-builder\` (debug build),
each request written on a raw socket; RSS from \`/proc/PID/status\` before and after; then
a read that must be answered 200.

| engine | attack | status | code | answered in (ms) | RSS growth (KiB) | serves afterwards |
|---|---|---:|---|---:|---:|---|
MD
grep '^|' "$attacks" | sort || true
cat <<MD

#### schemathesis against /openapi.json

\`crates/cli/tests/schemathesis.rs\` ($schemathesis_version, ${examples} examples per
operation and phase, all phases, ${schemathesis_seconds} s in all): every bundled app,
served on a fresh database of each engine, with the service key and anonymously; checks
\`not_a_server_error\`, \`status_code_conformance\`, \`content_type_conformance\`,
\`response_headers_conformance\`, \`response_schema_conformance\`. Requests are those
recorded in schemathesis' HAR report; failures are the checks that failed; errors are
schemathesis' own (a network error, no answer in time, counts as a failure of the
server; a runtime error is its generator failing, and is only reported).

| app | engine | caller | operations | requests | 5xx | failures | errors |
|---|---|---|---:|---:|---:|---|---|
MD
grep '^|' "$apis" | sort || true
echo
echo "#### Fuzz targets"
echo
echo "\`fuzz/\` (cargo-fuzz, libFuzzer; see \`fuzz/README.md\`), each target for the seconds below; the"
echo "short forms run in the default tests. To run one: \`cd fuzz && cargo +nightly fuzz run query_string -- -max_total_time=300\`"
echo "(\`scripts/ensure-tools --fuzz\` installs cargo-fuzz)."
echo
if [ -n "$fuzz_rows" ]; then
  echo "| target | seconds | runs | coverage | result |"
  echo "|---|---:|---:|---:|---|"
  printf '%s' "$fuzz_rows"
elif [ -n "$fuzz_note" ]; then
  echo "$fuzz_note"
else
  echo "Not run (TESSERA_RELIABILITY_FUZZ_SECONDS=0)."
fi
echo
if [ "$status" -eq 0 ]; then echo "Result: passed."; else echo "Result: FAILED (see the test output)."; fi
exit "$status"
