#!/bin/sh
# The shared library exports the public API and nothing else:
#  - every symbol in its dynamic symbol table (nm -D --defined-only) starts
#    with elman_,
#  - every ELMAN_API function declared in the headers is one of them, and
#    nothing else is,
#  - its SONAME is the expected one.
#
# Usage: check_exports.sh <cmake target type> <library> <soname> <header>...
# NM and READELF name the tools (default nm, readelf). Exits 77 (CTest's
# SKIP_RETURN_CODE) for a static library, which has no dynamic symbols.
set -eu

type=$1 lib=$2 soname=$3
shift 3
NM=${NM:-nm}
READELF=${READELF:-readelf}

if [ "$type" != SHARED_LIBRARY ]; then
    echo "SKIPPED: $lib is a static library ($type); the exported-symbol" \
         "test needs a shared build (-DBUILD_SHARED_LIBS=ON)"
    exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# "address type name" per defined dynamic symbol; keep the name, drop any
# symbol version (name@@VERSION).
"$NM" -D --defined-only "$lib" | awk 'NF >= 3 { sub(/@.*/, "", $3); print $3 }' |
    sort -u > "$tmp/exported"
# "ELMAN_API <type> [*]elman_name(" at the start of a line.
cat "$@" | sed -n 's/^ELMAN_API[^(]*[^a-zA-Z0-9_]\(elman_[a-zA-Z0-9_]*\)(.*/\1/p' |
    sort -u > "$tmp/declared"

status=0
if [ ! -s "$tmp/declared" ]; then
    echo "FAIL: no ELMAN_API function found in: $*"
    status=1
fi
if grep -v '^elman_' "$tmp/exported" > "$tmp/foreign"; then
    echo "FAIL: $lib exports symbols without the elman_ prefix:"
    sed 's/^/    /' "$tmp/foreign"
    status=1
fi
if comm -23 "$tmp/declared" "$tmp/exported" | grep . > "$tmp/missing"; then
    echo "FAIL: declared ELMAN_API but not exported by $lib:"
    sed 's/^/    /' "$tmp/missing"
    status=1
fi
if comm -13 "$tmp/declared" "$tmp/exported" | grep "^elman_" > "$tmp/extra"; then
    echo "FAIL: exported by $lib but not declared ELMAN_API in the headers:"
    sed 's/^/    /' "$tmp/extra"
    status=1
fi
actual=$("$READELF" -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
if [ "$actual" != "$soname" ]; then
    echo "FAIL: SONAME of $lib is '$actual', expected '$soname'"
    status=1
fi

if [ "$status" -eq 0 ]; then
    echo "OK: $lib (SONAME $actual) exports exactly $(wc -l < "$tmp/exported")" \
         "symbols, all elman_ and all declared:"
    sed 's/^/    /' "$tmp/exported"
fi
exit "$status"
