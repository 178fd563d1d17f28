#!/bin/sh
# The build options of README.md's table, configured (not built) as a user
# would: their defaults at the top level, what ELMAN_MAN_PAGES does with and
# without help2man, and ELMAN_BUILD_IO with and without cJSON; the include
# boundaries of src/io/ and src/cli/, checked at configure time.
# help2man is hidden by CMAKE_IGNORE_PATH over the program directories (the
# compiler, make, pkg-config and awk given by path), cJSON by a pkg-config
# directory that holds every .pc file of the system but libcjson.pc.
#
# Embedded with add_subdirectory (tests/consumer/add_subdirectory/, which
# sets ELMAN_BUILD_IO OFF), elman needs no cJSON and configures only its
# library: no tests, examples, benchmarks, install rules or man pages.
#
# Usage: tests/build_options.sh <scratch directory>     (from CI, ~10 s)
set -eu

work=$1
src=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$work"
mkdir -p "$work"

fail() { echo "FAIL: $*" >&2; exit 1; }

# The value of a cache entry of build directory $1.
cache() { sed -n "s/^$2:[A-Z]*=//p" "$1/CMakeCache.txt"; }

# The targets a configured build directory $1 has.
targets() { cmake --build "$1" --target help | sed -n 's/^\.\.\. \([^ ]*\).*/\1/p'; }

echo "-- the defaults, at the top level"
cmake -S "$src" -B "$work/default" >"$work/default.log" 2>&1 || { cat "$work/default.log"; fail "default configure"; }
d=$work/default
[ "$(cache "$d" BUILD_SHARED_LIBS)" != ON ] || fail "BUILD_SHARED_LIBS is ON by default"
grep -q 'libelman\.a' "$d/CMakeFiles/elman.dir/link.txt" || fail "the default libelman is not static"
for opt in ELMAN_BUILD_IO ELMAN_BUILD_TESTS ELMAN_BUILD_EXAMPLES ELMAN_BUILD_BENCH ELMAN_INSTALL \
    ELMAN_INSTALL_RPATH; do
    [ "$(cache "$d" $opt)" = ON ] || fail "$opt is '$(cache "$d" $opt)' at the top level, not ON"
done
[ "$(cache "$d" ELMAN_MAN_PAGES)" = AUTO ] || fail "ELMAN_MAN_PAGES defaults to '$(cache "$d" ELMAN_MAN_PAGES)'"
libdir=$(cache "$d" CMAKE_INSTALL_LIBDIR)
[ "$(cache "$d" ELMAN_INSTALL_CMAKEDIR)" = "$libdir/cmake/elman" ] ||
    fail "ELMAN_INSTALL_CMAKEDIR defaults to '$(cache "$d" ELMAN_INSTALL_CMAKEDIR)', not $libdir/cmake/elman"
t=$(targets "$d")
for want in elman elman_io elman_cli seed_shapes test_status elman-bench; do
    echo "$t" | grep -qx "$want" || fail "no target $want by default"
done
if command -v help2man >/dev/null; then
    echo "$t" | grep -qx elman_man_pages || fail "help2man is installed, but AUTO builds no man pages"
fi

echo "-- ELMAN_MAN_PAGES without help2man"
hide="-DCMAKE_IGNORE_PATH=/usr/local/sbin;/usr/local/bin;/usr/sbin;/usr/bin;/sbin;/bin"
given="-DCMAKE_C_COMPILER=$(command -v cc) -DCMAKE_MAKE_PROGRAM=$(command -v make)
       -DPKG_CONFIG_EXECUTABLE=$(command -v pkg-config) -DELMAN_AWK=$(command -v awk)
       -DELMAN_BUILD_TESTS=OFF -DELMAN_BUILD_EXAMPLES=OFF -DELMAN_BUILD_BENCH=OFF"
# shellcheck disable=SC2086 # $given is a list of arguments
cmake -S "$src" -B "$work/man-auto" "$hide" $given >"$work/man-auto.log" 2>&1 ||
    { cat "$work/man-auto.log"; fail "AUTO without help2man does not configure"; }
grep -q 'Man pages: not built' "$work/man-auto.log" || fail "AUTO without help2man does not say so"
targets "$work/man-auto" | grep -qx elman_man_pages && fail "AUTO without help2man builds man pages"
# shellcheck disable=SC2086
if cmake -S "$src" -B "$work/man-on" "$hide" $given -DELMAN_MAN_PAGES=ON >"$work/man-on.log" 2>&1; then
    fail "ELMAN_MAN_PAGES=ON configures without help2man"
fi
grep -q 'ELMAN_MAN_PAGES=ON needs help2man' "$work/man-on.log" ||
    { cat "$work/man-on.log"; fail "ELMAN_MAN_PAGES=ON fails without saying help2man is missing"; }
cmake -S "$src" -B "$work/man-off" -DELMAN_MAN_PAGES=OFF >/dev/null
targets "$work/man-off" | grep -qx elman_man_pages && fail "ELMAN_MAN_PAGES=OFF builds man pages"

echo "-- ELMAN_BUILD_IO without cJSON"
pcdir=$work/pkgconfig-without-cjson
mkdir -p "$pcdir"
for dir in $(pkg-config --variable pc_path pkg-config | tr ':' ' '); do
    [ -d "$dir" ] || continue
    for pc in "$dir"/*.pc; do
        [ -e "$pc" ] || continue
        case "$(basename "$pc")" in libcjson*.pc) continue ;; esac
        [ -e "$pcdir/$(basename "$pc")" ] || ln -s "$pc" "$pcdir/"
    done
done
if PKG_CONFIG_LIBDIR=$pcdir PKG_CONFIG_PATH= cmake -S "$src" -B "$work/io-on" >"$work/io-on.log" 2>&1; then
    fail "ELMAN_BUILD_IO=ON configures without cJSON (is it really hidden?)"
fi
# (CMake folds the message: two greps)
grep -q 'cJSON not found: install it' "$work/io-on.log" && grep -q -- '-DELMAN_BUILD_IO=OFF' "$work/io-on.log" ||
    { cat "$work/io-on.log"; fail "ELMAN_BUILD_IO=ON without cJSON does not say what to do"; }
PKG_CONFIG_LIBDIR=$pcdir PKG_CONFIG_PATH= cmake -S "$src" -B "$work/io-off" -DELMAN_BUILD_IO=OFF \
    >"$work/io-off.log" 2>&1 || { cat "$work/io-off.log"; fail "ELMAN_BUILD_IO=OFF needs cJSON"; }
t=$(targets "$work/io-off")
echo "$t" | grep -qx elman || fail "ELMAN_BUILD_IO=OFF has no elman"
for gone in elman_io elman_cli; do
    echo "$t" | grep -qx "$gone" && fail "ELMAN_BUILD_IO=OFF still has $gone"
done

echo "-- embedded (add_subdirectory): the core only, with cJSON hidden"
PKG_CONFIG_LIBDIR=$pcdir PKG_CONFIG_PATH= cmake -S "$src/tests/consumer/add_subdirectory" \
    -B "$work/embedded" -DELMAN_SOURCE_DIR="$src" >"$work/embedded.log" 2>&1 ||
    { cat "$work/embedded.log"; fail "the embedded core needs cJSON"; }
e=$work/embedded
for opt in ELMAN_BUILD_IO ELMAN_BUILD_TESTS ELMAN_BUILD_EXAMPLES ELMAN_BUILD_BENCH ELMAN_INSTALL; do
    [ "$(cache "$e" $opt)" = OFF ] || fail "$opt is '$(cache "$e" $opt)' embedded, not OFF"
done
t=$(targets "$e")
echo "$t" | grep -qx elman || fail "the embedded build has no elman"
for gone in elman_io elman_cli seed_shapes test_status elman-bench elman_man_pages; do
    echo "$t" | grep -qx "$gone" && fail "the embedded build has $gone"
done
echo "-- the include boundaries, at configure time (docs/ARCHITECTURE.md)"
# A copy of the tree whose src/io/ or src/cli/ includes the core's
# internal.h does not configure, and the error names the line.
tree=$work/tree
mkdir -p "$tree"
tar -C "$src" --exclude=./.git --exclude='./build*' -cf - . | tar -C "$tree" -xf -
for part in io cli; do
    for f in "$tree"/src/$part/*.c; do cp "$f" "$f.orig"; done
    first=$(ls "$tree"/src/$part/*.c | head -n 1)
    printf '#include "internal.h"\n' >>"$first"
    if cmake -S "$tree" -B "$work/bad-$part" -DELMAN_BUILD_TESTS=OFF -DELMAN_BUILD_EXAMPLES=OFF \
        -DELMAN_BUILD_BENCH=OFF -DELMAN_MAN_PAGES=OFF >"$work/bad-$part.log" 2>&1; then
        fail "src/$part/ including internal.h configures"
    fi
    grep -q "src/$part/$(basename "$first"): #include \"internal.h\"" "$work/bad-$part.log" ||
        { cat "$work/bad-$part.log"; fail "the configure error does not name src/$part/'s include"; }
    for f in "$tree"/src/$part/*.c; do mv "$f.orig" "$f"; done
done
# and the untouched copy does
cmake -S "$tree" -B "$work/good" -DELMAN_BUILD_TESTS=OFF -DELMAN_BUILD_EXAMPLES=OFF \
    -DELMAN_BUILD_BENCH=OFF -DELMAN_MAN_PAGES=OFF >"$work/good.log" 2>&1 ||
    { cat "$work/good.log"; fail "the copied tree does not configure"; }
echo "== build options passed"
