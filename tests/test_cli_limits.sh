#!/usr/bin/env bash
# The elman tool under limits:
#  - under `ulimit -v` small enough to starve OpenBLAS's worker threads
#    (OpenBLAS 0.3.21 spins forever in blas_memory_alloc: upstream issue
#    5289), `elman run` ends: successfully, or with a one-line out of memory
#    message; never killed by `timeout`;
#  - peak RSS of `elman run` (/usr/bin/time -f %M) on a generated 56 MB
#    float32 model is at most 1.3 x (float32 model + X + Y + HN) + 20 MB.
# Skipped (77) under the sanitizers (their shadow memory needs the address
# space and inflates RSS), and without /usr/bin/time or numpy.
#
# usage: test_cli_limits.sh ELMAN NPY_COMPARE DATA_DIR [SANITIZED [ulimit|rss]]
# (the last argument runs one part only: ctest registers each on its own)
# shellcheck source=cli_lib.sh
. "$(dirname "$0")/cli_lib.sh"
if [[ $SANITIZED == 1 ]]; then
    echo "test_cli_limits: skipped: sanitizer builds cannot run under ulimit -v or be measured"
    exit 77
fi

part=${5:-all}

# ---- ulimit -v: the run ends ----
[[ $part == rss ]] || for kb in 60000 100000 150000 400000; do
    runs=$((runs + 1))
    rm -f "$W/y.npy"
    (ulimit -v $kb && exec timeout 30 "$ELMAN" run --weights "$D/basic.safetensors" \
        --input "$D/basic.x.npy" --output "$W/y.npy" --hn "$W/hn.npy") 2>"$W/err"
    rc=$?
    if [[ $rc -eq 0 ]]; then
        "$CMP" "$W/y.npy" "$D/basic.y.npy" || fail "ulimit -v $kb: wrong Y"
    elif [[ $rc -eq 124 ]]; then
        fail "ulimit -v $kb: elman run did not end in 30 s (OpenBLAS threads spinning?)"
    elif ! [[ $rc -eq 1 && $(wc -l <"$W/err") -le 1 ]] || ! grep -q "out of memory\|cannot" "$W/err"; then
        fail "ulimit -v $kb: exit $rc: $(cat "$W/err")"
    fi
done

if [[ $part == ulimit ]]; then
    finish test_cli_limits
    exit
fi

# ---- peak RSS ----
if [[ ! -x /usr/bin/time ]] || ! /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    echo "test_cli_limits: the memory case is skipped: needs /usr/bin/time and numpy"
    [[ $fails -eq 0 ]] && exit 77
    exit 1
fi
# rss_case WHAT OUT I H L T B SEED: generates the model and X, runs them,
# checks peak RSS against 1.3 x (float32 model + X + Y + HN) + 20 MB.
rss_case() {
    local what=$1 out=$W/$2 sizes model x y hn rss_kb limit_kb
    shift 2
    sizes=$(/usr/bin/python3 "$(dirname "$0")/make_rnn_model.py" "$out" "$@")
    read -r model x y hn <<<"$sizes"
    runs=$((runs + 1))
    /usr/bin/time -f %M -o "$W/rss" "$ELMAN" run --weights "$out.safetensors" \
        --input "$out.x.npy" --output "$W/y.npy" --hn "$W/hn.npy" 2>"$W/err" ||
        fail "$what: the run failed: $(cat "$W/err")"
    rss_kb=$(tail -n 1 "$W/rss")
    limit_kb=$(((13 * (model + x + y + hn) / 10 + 20 * 1024 * 1024) / 1024))
    echo "test_cli_limits: $what: peak RSS ${rss_kb} KiB; float32 model $((model / 1024)) KiB" \
        "+ X $((x / 1024)) + Y $((y / 1024)) + HN $((hn / 1024)) KiB; bound ${limit_kb} KiB"
    [[ $rss_kb -le $limit_kb ]] ||
        fail "$what: peak RSS ${rss_kb} KiB > 1.3 x (model + X + Y + HN) + 20 MB = ${limit_kb} KiB"
    rm -f "$out".* "$W/y.npy" "$W/hn.npy"
}
# The model's share: two layers, I=1024, H=2048, 14.7 M float32 parameters
# (56 MB); X (16, 4, 1024).
rss_case "56 MB model" big 1024 2048 2 16 4 7
# The arrays' share: a small model (I=128, H=32) on a 66 MB X (500, 256, 128).
rss_case "66 MB input" wide 128 32 1 500 256 3

finish test_cli_limits
