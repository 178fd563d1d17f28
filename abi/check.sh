#!/bin/sh
# Compares the ABI of a shared build with the committed baseline
# (abi/libelman.abi, abi/libelman_io.abi: the last release's) and fails on
# a change the ABI policy of include/elman.h does not allow within one
# SOVERSION, unless the library's SONAME (its SOVERSION) differs from the
# baseline's. Allowed: added functions and variables, fields appended to
# elman_config (abi/elman.abignore). Anything abidiff counts as removed or
# changed, or flags as incompatible, is not.
#
#   sh abi/check.sh <shared RelWithDebInfo build dir>
set -eu
build=$1
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sh "$src/abi/dump.sh" "$build" "$tmp"

soname() {
    sed -n "s/.*<abi-corpus [^>]*soname='\([^']*\)'.*/\1/p" "$1" | head -n 1
}

status=0
for lib in libelman libelman_io; do
    base="$src/abi/$lib.abi" diff="$tmp/$lib.diff"
    old=$(soname "$base") new=$(soname "$tmp/$lib.abi")
    rc=0
    abidiff --no-show-locs --suppressions "$src/abi/elman.abignore" "$base" "$tmp/$lib.abi" \
        > "$diff" 2>&1 || rc=$?
    # abidiff's status is a bit field: 1 error, 2 usage error, 4 ABI change,
    # 8 incompatible change. Its summaries count what remains after the
    # suppressions: "N Removed, M Changed ..., K Added".
    if [ $((rc & 3)) -ne 0 ]; then
        cat "$diff"
        echo "FAIL: abidiff could not compare $lib (status $rc)"
        status=1
        continue
    fi
    breaking=no
    if [ $((rc & 8)) -ne 0 ] ||
        grep 'summary:' "$diff" | grep -Eq '[1-9][0-9]* (Removed|Changed)'; then
        breaking=yes
    fi
    [ "$rc" -eq 0 ] || cat "$diff"
    if [ $breaking = no ] && [ "$rc" -eq 0 ]; then
        echo "OK: $lib has the baseline's ABI ($new)"
    elif [ $breaking = no ]; then
        echo "OK: $lib keeps the baseline's ABI ($new), with the additions above"
    elif [ "$old" != "$new" ]; then
        echo "OK: $lib breaks the baseline's ABI and its SONAME moved ($old -> $new):" \
             "regenerate the baseline with abi/dump.sh at the release"
    else
        echo "FAIL: $lib breaks the ABI of $new (above):" \
             "keep the ABI, or bump ELMAN_SOVERSION in include/elman.h"
        status=1
    fi
done
exit $status
