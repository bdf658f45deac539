#!/usr/bin/env bash
# Installs the Debian 12 packages pg_personalize needs to build, test and run
# its demo. Does nothing when they are all present; otherwise uses apt-get
# (through sudo when not root).
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    postgresql-15 postgresql-server-dev-15 postgresql-common postgresql-client-15 postgresql-15-cron
    libeigen3-dev libabsl-dev liblbfgspp-dev libboost-math-dev libgtest-dev libbenchmark-dev
    python3-psycopg   # the hostile-input test (test/hostile/run.sh, run with /usr/bin/python3)
    clang libclang-rt-14-dev   # the libFuzzer target of the offer rules (test/fuzz/run.sh)
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null; then
    sudo=(sudo)
else
    echo "error: missing packages (${missing[*]}) and no sudo; install them as root" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
