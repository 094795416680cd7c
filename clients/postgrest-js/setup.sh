#!/usr/bin/env bash
# Installs the client suite's pinned dependencies (from package-lock.json) into
# clients/postgrest-js/node_modules. Run once; scripts/test runs it when needed.
set -euo pipefail
cd "$(dirname "$0")"
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi
