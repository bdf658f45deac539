#!/usr/bin/env bash
# The storefront's browser test: builds pg_personalize, installs the npm
# packages (npm ci) and Debian's chromium when missing, starts the
# storefront on a throwaway cluster and runs test.js (playwright-core,
# headless chromium) through the five use cases, each page checked against
# SQL. Prints one PASS/FAIL line per check and ends with "N passed, M failed".
# Screenshots go to a temporary directory, or to STOREFRONT_SCREENSHOTS
# (e.g. docs/storefront, relative to the repository) when set.
# Skips (SKIP line, exit 0) only when chromium or the npm packages cannot be
# installed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
skip() { echo "SKIP storefront browser test: $*"; echo "0 passed, 0 failed"; exit 0; }

command -v node >/dev/null && command -v npm >/dev/null || skip "node and npm are not installed"
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    sudo=; [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get install -y chromium >/dev/null 2>&1 || skip "chromium is missing and apt-get install -y chromium failed"
fi
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1) ||
    skip "npm ci failed (no registry?): the pg and playwright-core packages are missing"

make -s -C "$repo" -j2 PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config >/dev/null || { echo "FAIL build"; echo "0 passed, 1 failed"; exit 1; }

if [ -n "${STOREFRONT_SCREENSHOTS:-}" ]; then
    shots=$(cd "$repo" && mkdir -p "$STOREFRONT_SCREENSHOTS" && cd "$STOREFRONT_SCREENSHOTS" && pwd)
else
    shots=$(mktemp -d -t storefront_shots.XXXXXX)
    trap 'rm -rf "$shots"' EXIT
fi
chmod 777 "$shots"
export STOREFRONT_SCREENSHOTS_DIR=$shots
PGTZ=UTC "$repo/scripts/with-temp-cluster.sh" bash "$here/serve.sh" node "$here/test.js" 2>&1 |
    grep -vE '^(Creating new PostgreSQL cluster|Dropping cluster|Loading the demo shop|storefront listening)'
rc=${PIPESTATUS[0]}
[ -n "${STOREFRONT_SCREENSHOTS:-}" ] && echo "screenshots in $shots"
exit "$rc"
