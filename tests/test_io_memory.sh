#!/bin/bash
# Peak memory of `elman run` and `elman info` on a float32 model of more
# than 50 MB (issue 9): elman_io converts tensor by tensor, never holding
# the file or a double copy of the weights.
#   run:  peak RSS <= 1.3 x (float32 model + X + Y + HN) + 20 MB
#   info: peak RSS <= file size + 20 MB
# Usage: test_io_memory.sh ELMAN GEN_SCRIPT. Skipped (77) without
# /usr/bin/time or /usr/bin/python3 with numpy.
set -u
ELMAN=$1
GEN=$2
[[ -x /usr/bin/time ]] || { echo "skip: /usr/bin/time is missing (apt-get install time)"; exit 77; }
/usr/bin/python3 -c "import numpy" 2>/dev/null ||
    { echo "skip: /usr/bin/python3 has no numpy"; exit 77; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# 4 layers, input and hidden size 1280: 13.1 MB of weights per layer.
/usr/bin/python3 "$GEN" "$W" 1280 1280 4 || { echo "FAIL: cannot generate the model"; exit 1; }
bytes() { stat -c %s "$1"; }
model=$(bytes "$W/m.safetensors")
(( model >= 50 * 1000 * 1000 )) || { echo "FAIL: model of $model bytes, not >= 50 MB"; exit 1; }

peak() { # peak RSS in KB of the command, its exit status checked
    /usr/bin/time -o "$W/time" -f %M "$@" >"$W/out" 2>"$W/err" ||
        { echo "FAIL: $* exited with $?: $(cat "$W/err")"; exit 1; }
    cat "$W/time"
}
status=0
run_kb=$(peak "$ELMAN" run --weights "$W/m.safetensors" --input "$W/x.npy" \
    --output "$W/y.npy" --hn "$W/hn.npy")
data=$(( $(bytes "$W/x.npy") + $(bytes "$W/y.npy") + $(bytes "$W/hn.npy") ))
run_max=$(( (13 * (model + data) / 10 + 20 * 1024 * 1024) / 1024 ))
echo "run:  peak RSS ${run_kb} KB, bound ${run_max} KB (model $model bytes, X+Y+HN $data bytes)"
(( run_kb <= run_max )) || { echo "FAIL: elman run exceeds its memory bound"; status=1; }

info_kb=$(peak "$ELMAN" info "$W/m.safetensors")
info_max=$(( (model + 20 * 1024 * 1024) / 1024 ))
echo "info: peak RSS ${info_kb} KB, bound ${info_max} KB"
(( info_kb <= info_max )) || { echo "FAIL: elman info exceeds its memory bound"; status=1; }
exit $status
