#!/usr/bin/env bash
# examples/seed_shapes against its two promises:
#  - README.md shows what it prints: the block after "and prints:" must be
#    its standard output, byte for byte;
#  - what it prints is PyTorch's answer: tests/data/example/seed_shapes.txt
#    (tests/gen_seed_shapes.py, nn.RNN with the example's weights) has the
#    same text, every number within 2e-6 (the sixth decimal may round the
#    other way), and the same "==" / "!=" verdicts.
# Usage: test_example.sh <seed_shapes> <README.md> <expected.txt>
set -euo pipefail
example=$1 readme=$2 expected=$3
scratch=$(mktemp -d "${TMPDIR:-/tmp}/elman-example.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

"$example" >"$scratch/out" 2>"$scratch/err" || fail "seed_shapes exited $?: $(cat "$scratch/err")"
[ -s "$scratch/err" ] && fail "seed_shapes wrote to stderr: $(cat "$scratch/err")"

# The README's block: the fenced block that follows the line ending "prints:".
awk 'found == 0 && /prints:$/ { found = 1; next }
     found == 1 && /^```/ { found = 2; next }
     found == 2 && /^```/ { exit }
     found == 2 { print }' "$readme" >"$scratch/readme"
[ -s "$scratch/readme" ] || fail "no block after \"prints:\" in $readme"
diff -u "$scratch/readme" "$scratch/out" || fail "README.md's block is not what seed_shapes prints"

# PyTorch's values: the text with the numbers taken out must be the same,
# and the numbers close.
numbers='-?[0-9]+\.[0-9]{6}'
sed -E "s/$numbers/#/g" "$scratch/out" >"$scratch/out.text"
sed -E "s/$numbers/#/g" "$expected" >"$scratch/expected.text"
diff -u "$scratch/expected.text" "$scratch/out.text" || fail "seed_shapes' text differs from PyTorch's"
grep -oE -- "$numbers" "$scratch/out" >"$scratch/out.num"
grep -oE -- "$numbers" "$expected" >"$scratch/expected.num"
[ "$(wc -l <"$scratch/expected.num")" -eq 28 ] || fail "expected 28 numbers in $expected"
paste "$scratch/out.num" "$scratch/expected.num" | awk '
    { d = $1 - $2; if (d < 0) d = -d; if (d > 2e-6) { bad++; print "differs: " $1 " vs PyTorch " $2 } }
    END { exit bad > 0 }' || fail "seed_shapes' numbers differ from PyTorch's"
echo "OK: seed_shapes prints README.md's block, and PyTorch's values"
