#!/usr/bin/env bash
# Builds Citus 13.0.5 from ../shared/citus once into a private cache (staged
# with DESTDIR, never installed system-wide) and prints the stage directory.
# Reused when already built. Exit 3 when the source archive is absent.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
archive=$repo/../shared/citus/citus-13.0.5.tar.gz
[ -f "$archive" ] || exit 3
pg_config=/usr/lib/postgresql/15/bin/pg_config
cache=${PG_PERSONALIZE_CITUS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pg_personalize/citus-13.0.5}
stage=$cache/stage
if [ -f "$cache/built" ]; then echo "$stage"; exit 0; fi
# Build dependencies (the README in ../shared/citus lists them).
missing=()
for p in libcurl4-openssl-dev liblz4-dev libzstd-dev libkrb5-dev libselinux1-dev libpam0g-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
    else
        echo "missing Citus build dependencies: ${missing[*]}" >&2; exit 1
    fi
fi
rm -rf "$cache/src" "$stage"
mkdir -p "$cache/src"
tar xzf "$archive" -C "$cache/src"
src=$cache/src/citus-13.0.5
(
    cd "$src"
    ./configure PG_CONFIG="$pg_config" --without-libcurl >"$cache/build.log" 2>&1
    nice make -j2 >>"$cache/build.log" 2>&1
    make install DESTDIR="$stage" >>"$cache/build.log" 2>&1
) || { echo "Citus build failed, see $cache/build.log" >&2; exit 1; }
chmod -R a+rX "$cache"
touch "$cache/built"
echo "$stage"
