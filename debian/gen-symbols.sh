#!/bin/sh
# Writes debian/libelman1.symbols and debian/libelman-io1.symbols from the
# dynamic symbol tables of a shared build (nm -D --defined-only), so that
# the package build (DPKG_GENSYMBOLS_CHECK_LEVEL=4) fails on any change of
# the exported ABI until the files are refreshed on purpose. A symbol
# already listed keeps the version that introduced it; a new one gets
# VERSION (default: the upstream part of debian/changelog's version).
#
# Usage, from the top of the source tree:
#   cmake -S . -B build-shared -DBUILD_SHARED_LIBS=ON && cmake --build build-shared -j2
#   debian/gen-symbols.sh build-shared [VERSION]
set -eu

build=$1
version=${2:-$(dpkg-parsechangelog -S Version | sed 's/-[^-]*$//')}
NM=${NM:-nm}

# write <library file name> <package> <symbols file>
write() {
    lib=$1 pkg=$2 out=$3
    [ -e "$build/$lib" ] || { echo "gen-symbols: no $build/$lib (a shared build?)" >&2; exit 1; }
    soname=$(readelf -d "$build/$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
    tmp=$(mktemp)
    {
        echo "$soname $pkg #MINVER#"
        echo "* Build-Depends-Package: libelman-dev"
        "$NM" -D --defined-only "$build/$lib" | awk 'NF >= 3 { sub(/@.*/, "", $3); print $3 }' |
            sort -u | while read -r sym; do
                old=$(sed -n "s/^ $sym@Base \(.*\)/\1/p" "$out" 2>/dev/null || true)
                echo " $sym@Base ${old:-$version}"
            done
    } >"$tmp"
    mv "$tmp" "$out"
    chmod 644 "$out"
    echo "$out: $(grep -c '@Base' "$out") symbols"
}

here=$(dirname "$0")
write libelman.so libelman1 "$here/libelman1.symbols"
write libelman_io.so libelman-io1 "$here/libelman-io1.symbols"
