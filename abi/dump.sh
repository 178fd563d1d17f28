#!/bin/sh
# Writes the ABI of the shared libraries of a build to <out dir> as
# libelman.abi and libelman_io.abi (abidw, from Debian's abigail-tools),
# with no machine-specific paths in them. The build must be shared and
# carry debug info:
#
#   cmake -S . -B build-abi -DBUILD_SHARED_LIBS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
#   cmake --build build-abi
#   sh abi/dump.sh build-abi abi        # the baseline, at a release
#
# The committed abi/*.abi are the last release's; .ci/run dumps the current
# build the same way and compares it with abidiff (abi/check.sh).
set -eu
build=$1 out=$2
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
for lib in libelman libelman_io; do
    abidw --headers-dir "$src/include" --drop-private-types --no-corpus-path \
        --no-comp-dir-path --no-show-locs "$build/$lib.so" |
        sed "s|path='$src/|path='|g" > "$out/$lib.abi"
done
