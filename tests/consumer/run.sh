#!/bin/sh
# Installs a build of elman into a staging prefix, then builds and runs the
# two consumer projects against it as a user outside the repository would:
# find_package/ (CMake package) and pkg_config/ (pkg-config and make only);
# and a third, add_subdirectory/, that embeds the source tree instead.
# Checks that the programs really use the staged library: the shared
# libelman from the prefix, or none at run time for a static build. Then
# runs the installed tool (<prefix>/bin/elman) with no LD_LIBRARY_PATH: it
# must find the prefix's libraries through its RUNPATH ($ORIGIN/../lib...).
#
# Checks the files README.md says an install holds, and, given the kind
# (shared or static) the build directory was configured for, that the
# install is of that kind. consumer_io uses elman_io through
# find_package(elman COMPONENTS elman_io) and through elman_io.pc. The
# embedded build must install nothing.
#
# Usage: tests/consumer/run.sh <elman build directory> <scratch directory> [shared|static]
set -eu

build=$1
work=$2
want_kind=${3:-}
here=$(cd "$(dirname "$0")" && pwd)

rm -rf "$work"
mkdir -p "$work"
prefix=$(cd "$work" && pwd)/prefix
cmake --install "$build" --prefix "$prefix"

pcfile=$(find "$prefix" -name elman.pc -path '*/pkgconfig/*')
[ -n "$pcfile" ] || { echo "FAIL: no elman.pc installed"; exit 1; }
PKG_CONFIG_PATH=$(dirname "$pcfile")
export PKG_CONFIG_PATH
libdir=$(pkg-config --variable=libdir elman)
if [ -e "$libdir/libelman.so" ]; then kind=shared; else kind=static; fi
echo "== consumers against the $kind elman staged in $prefix"
if [ -n "$want_kind" ] && [ "$kind" != "$want_kind" ]; then
    echo "FAIL: $build installed a $kind elman, expected $want_kind"
    exit 1
fi

# What README.md's "Install and use it" says an install holds.
must_have() {
    for f in "$@"; do
        [ -e "$prefix/$f" ] || { echo "FAIL: the install has no $f"; exit 1; }
    done
}
rel_libdir=${libdir#"$prefix"/}
must_have include/elman.h include/elman_io.h "$rel_libdir/pkgconfig/elman_io.pc" \
    "$rel_libdir/cmake/elman/elmanConfig.cmake" "$rel_libdir/cmake/elman/elmanConfigVersion.cmake"
if [ "$kind" = shared ]; then
    must_have "$rel_libdir/libelman.so.1" "$rel_libdir/libelman_io.so.1" "$rel_libdir/libelman_io.so"
else
    must_have "$rel_libdir/libelman.a" "$rel_libdir/libelman_io.a"
fi
if [ -x "$prefix/bin/elman" ]; then
    must_have bin/elman-export share/elman/python/export_pytorch.py
    [ -x "$prefix/bin/elman-export" ] || { echo "FAIL: bin/elman-export is not executable"; exit 1; }
    if grep -q '^ELMAN_HELP2MAN:FILEPATH=/' "$build/CMakeCache.txt"; then
        must_have share/man/man1/elman.1 share/man/man1/elman-export.1
    fi
fi
pkg-config --validate elman
pkg-config --validate elman_io
# The version is read from the header (docs/API.md, Versions): the
# installed elman.h's, elman.pc's, elman_io.pc's and the CMake package's
# (below) are one.
hversion=$(sed -n 's/^#define ELMAN_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9][0-9]*\).*/\2/p' \
    "$prefix/include/elman.h" | paste -sd.)
for pc in elman elman_io; do
    [ "$(pkg-config --modversion $pc)" = "$hversion" ] ||
        { echo "FAIL: $pc.pc has version $(pkg-config --modversion $pc), elman.h $hversion"; exit 1; }
done
echo "pkg-config --cflags --libs elman: $(pkg-config --cflags --libs elman)"
echo "pkg-config --static --libs elman: $(pkg-config --static --libs elman)"

# Where the program loads libelman from (nothing if linked statically);
# $2 is the LD_LIBRARY_PATH it runs with.
check_linkage() {
    loaded=$(LD_LIBRARY_PATH=${2:-} ldd "$1" | sed -n 's/^[[:space:]]*\(libelman\.so[^ ]*\) => \([^ ]*\).*/\2/p')
    if [ "$kind" = shared ]; then
        case "$loaded" in
        "$libdir"/libelman.so.*) echo "$1 loads $loaded" ;;
        *) echo "FAIL: $1 loads libelman from '$loaded', not from $libdir"; exit 1 ;;
        esac
    elif [ -n "$loaded" ]; then
        echo "FAIL: $1 is linked against a static elman but loads $loaded"
        exit 1
    fi
}

echo "-- find_package(elman)"
cmake -S "$here/find_package" -B "$work/find_package" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$work/find_package.log" 2>&1 ||
    { cat "$work/find_package.log"; exit 1; }
cat "$work/find_package.log"
grep -q "^-- elman $hversion from " "$work/find_package.log" ||
    { echo "FAIL: the CMake package's version is not elman.h's $hversion"; exit 1; }
cmake --build "$work/find_package"
check_linkage "$work/find_package/consumer"
"$work/find_package/consumer"
"$work/find_package/consumer_io" "$work"

echo "-- pkg-config"
mkdir -p "$work/pkg_config"
if [ "$kind" = static ]; then static=1; else static=0; fi
(cd "$work/pkg_config" && make -f "$here/pkg_config/Makefile" STATIC=$static)
check_linkage "$work/pkg_config/consumer" "$libdir"
LD_LIBRARY_PATH=$libdir "$work/pkg_config/consumer"
LD_LIBRARY_PATH=$libdir "$work/pkg_config/consumer_io" "$work"

if [ -x "$prefix/bin/elman" ]; then
    echo "-- the installed elman tool"
    tool=$prefix/bin/elman
    if [ "$kind" = shared ]; then
        loaded=$(env -u LD_LIBRARY_PATH ldd "$tool" | sed -n 's/^[[:space:]]*\(libelman_io\.so[^ ]*\) => \([^ ]*\).*/\2/p')
        # ldd prints the RUNPATH's $ORIGIN/.. as it is: compare real paths.
        case "$(realpath "${loaded:-/nonexistent}" 2>/dev/null)" in
        "$(realpath "$libdir")"/libelman_io.so.*) echo "$tool loads $loaded" ;;
        *) echo "FAIL: $tool loads libelman_io from '$loaded', not from $libdir"; exit 1 ;;
        esac
    fi
    env -u LD_LIBRARY_PATH "$tool" --version
    data=$here/../data/io
    env -u LD_LIBRARY_PATH "$tool" info "$data/basic.safetensors" >/dev/null
    env -u LD_LIBRARY_PATH "$tool" run --weights "$data/basic.safetensors" \
        --input "$data/basic.x.npy" --output "$work/y.npy"
    [ -s "$work/y.npy" ] || { echo "FAIL: $tool run wrote no output"; exit 1; }
    echo "$tool runs from the prefix"
fi

echo "-- add_subdirectory(elman): the source tree embedded, no install"
cmake -S "$here/add_subdirectory" -B "$work/add_subdirectory" \
    -DELMAN_SOURCE_DIR="$here/../.." -DBUILD_SHARED_LIBS=OFF
cmake --build "$work/add_subdirectory"
for dir in tests examples bench; do
    if [ -d "$work/add_subdirectory/elman/$dir" ]; then
        echo "FAIL: embedded elman configured its $dir"
        exit 1
    fi
done
"$work/add_subdirectory/consumer"
# Embedded, install rules are off: installing the embedding project (which
# has none of its own) installs nothing.
cmake --install "$work/add_subdirectory" --prefix "$work/embedded-prefix" >/dev/null
if [ -n "$(find "$work/embedded-prefix" -type f 2>/dev/null)" ]; then
    echo "FAIL: the embedded elman installed files:"
    find "$work/embedded-prefix" -type f
    exit 1
fi
echo "== consumers passed ($kind)"
