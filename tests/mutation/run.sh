#!/usr/bin/env bash
# Mutation check: plants each bug of mutants.txt, one at a time, in a
# scratch copy of the tree, rebuilds (incrementally: one full build first,
# then only what the mutant touched) and runs ctest, stopping at the first
# failing test. Prints "N killed, M survived" and exits non-zero if any
# mutant survives, or does not apply (its anchor is not in exactly one file
# under src/, or its sed script changes nothing), or does not build: the
# list stays honest when the code moves.
#
#   tests/mutation/run.sh [-k] [-j JOBS] [NAME_REGEX]
#     -k    keep the scratch directory (printed)
#     NAME_REGEX: only the mutants whose names match (grep -E)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
list="$root/tests/mutation/mutants.txt"
keep=0
jobs=2
while getopts kj: opt; do
    case $opt in
    k) keep=1 ;;
    j) jobs=$OPTARG ;;
    *) echo "usage: $0 [-k] [-j JOBS] [NAME_REGEX]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
only=${1:-.}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/elman-mutation.XXXXXX")
if [ "$keep" = 1 ]; then
    echo "scratch: $scratch"
else
    trap 'rm -rf "$scratch"' EXIT
fi
src="$scratch/src"
build="$scratch/build"
log="$scratch/log"
mkdir -p "$src" "$log"

# The working tree as it is (committed or not), without build directories.
tar -C "$root" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$src" -xf -

start=$(date +%s)
echo "== mutation: building the unmutated tree"
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DELMAN_BUILD_BENCH=OFF \
    -DELMAN_BUILD_EXAMPLES=OFF >"$log/configure" 2>&1 || { cat "$log/configure"; exit 2; }
cmake --build "$build" -j"$jobs" >"$log/build" 2>&1 || { tail -n 40 "$log/build"; exit 2; }
# The suite must pass before any mutant means anything.
if ! ctest --test-dir "$build" -j"$jobs" --timeout 600 >"$log/baseline" 2>&1; then
    cat "$log/baseline"
    echo "mutation: the unmutated tree fails its tests" >&2
    exit 2
fi

# A cmocka program stops at its first failed assertion (it goes on to its
# other tests otherwise): a mutant is dead at the first failure.
export CMOCKA_TEST_ABORT=1

# Runs the tests matching $1 first, then the rest, stopping at the first
# failure; returns non-zero if any test failed (or timed out).
run_tests() {
    local first=$1 out=$2
    ctest --test-dir "$build" -j"$jobs" --timeout 300 --stop-on-failure --no-tests=ignore \
        -R "$first" >"$out" 2>&1 || return 1
    ctest --test-dir "$build" -j"$jobs" --timeout 300 --stop-on-failure --no-tests=ignore \
        -E "$first" >>"$out" 2>&1 || return 1
}

killed=0
survived=0
broken=0
skipped=0
while IFS= read -r line; do
    case $line in '#'* | '') continue ;; esac
    name=${line%% ;; *}
    rest=${line#* ;; }
    anchor=${rest%% ;; *}
    rest=${rest#* ;; }
    tests=${rest%% ;; *}
    script=${rest#* ;; }
    echo "$name" | grep -Eq -- "$only" || continue
    # A mutant of an ISA's kernels (named after it) needs a CPU that runs
    # them: elsewhere no test could see it, and it is reported as skipped.
    isa=
    case $name in avx512-*) isa=avx512bw ;; avx2-*) isa=avx2 ;; esac
    if [ -n "$isa" ] && ! grep -qw "$isa" /proc/cpuinfo 2>/dev/null; then
        echo "skipped  $name: this CPU has no ${isa%bw} (its kernels cannot run here)"
        skipped=$((skipped + 1))
        continue
    fi

    files=$(cd "$src" && grep -rlF --include='*.c' --include='*.h' --include='*.inc' \
        -- "$anchor" src || true)
    if [ -z "$files" ] || [ "$(printf '%s\n' "$files" | wc -l)" -ne 1 ]; then
        echo "BROKEN   $name: anchor '$anchor' is in ${files:-no file} (want exactly one)"
        broken=$((broken + 1))
        continue
    fi
    file="$src/$files"
    cp "$file" "$scratch/original"
    sed -e "$script" "$scratch/original" >"$file"
    if cmp -s "$file" "$scratch/original"; then
        echo "BROKEN   $name: the sed script changes nothing in $files"
        broken=$((broken + 1))
        cp "$scratch/original" "$file"
        continue
    fi
    if ! cmake --build "$build" -j"$jobs" >"$log/$name.build" 2>&1; then
        echo "BROKEN   $name: does not build ($log/$name.build)"
        broken=$((broken + 1))
    elif run_tests "$tests" "$log/$name.tests"; then
        echo "SURVIVED $name ($files): no test failed"
        survived=$((survived + 1))
    else
        by=$(grep -Eo '[0-9]+ - [A-Za-z0-9_]+ \((Failed|Timeout|SEGFAULT|Subprocess aborted|Exception|Not Run)' \
            "$log/$name.tests" | head -n 1 | sed 's/^[0-9]* - //; s/ (.*//')
        echo "killed   $name ($files) by ${by:-a failing test}"
        killed=$((killed + 1))
    fi
    # A fresh copy (new time stamp), so the next build recompiles it.
    cp "$scratch/original" "$file"
done <"$list"

end=$(date +%s)
echo "mutation: $killed killed, $survived survived, $broken broken, $skipped skipped ($((end - start)) s)"
[ "$survived" -eq 0 ] && [ "$broken" -eq 0 ] && [ "$killed" -gt 0 ]
